"""Invisible watermarks and perceptual fingerprints for images and video.

Pure media code: it knows nothing of accounts, HTTP or chains.
"""

import logging

# faiss's loader tries the builds for the fastest instruction sets first and logs, at INFO, a
# ModuleNotFoundError for each one its wheel does not ship (e.g. swigfaiss_avx512_spr) before it
# loads one that is there: nothing is wrong, yet a worker's log read as if something were. Its
# warnings and errors still come through.
logging.getLogger("faiss.loader").setLevel(logging.WARNING)
