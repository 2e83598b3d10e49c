"""Invisible watermarks and perceptual fingerprints for images and video.

Pure media code: it knows nothing of accounts, HTTP or chains.
"""
