"""Payload framing: 48-bit payload + CRC-32, convolutionally coded, soft-decision Viterbi.

    payload (48 bits) | CRC-32 of it (32 bits)  -> 80 info bits
    + 6 zero tail bits, rate-1/3 convolutional code, constraint length 7
      (generators 133, 171, 165 octal, as in LTE / 3GPP)      -> 258 coded bits

Coded bits travel as antipodal symbols s = 1 - 2*bit. A reader hands `decode` one soft
value per coded bit, an estimate of s of any scale (soft values from several frames may
simply be added first); Viterbi picks the codeword of greatest correlation with them, and
the payload is accepted only if its CRC-32 matches. A reading of noise passes the CRC with
probability 2**-32 ~= 2.3e-10.
"""

from __future__ import annotations

import zlib

import numpy as np

from watermark.errors import WatermarkError

PAYLOAD_BITS = 48
CRC_BITS = 32
INFO_BITS = PAYLOAD_BITS + CRC_BITS
_GENERATORS = (0o133, 0o171, 0o165)
_K = 7  # constraint length
_MEMORY = _K - 1
_STATES = 1 << _MEMORY
RATE = len(_GENERATORS)
CODED_BITS = (INFO_BITS + _MEMORY) * RATE  # 258

# Output bits of every 7-bit register value (bit 6 = newest input, bit 0 = oldest).
_REGISTERS = np.arange(1 << _K)
_OUTPUTS = np.array([[bin(r & g).count("1") & 1 for g in _GENERATORS] for r in range(1 << _K)], dtype=np.uint8)
_SYMBOLS = (1.0 - 2.0 * _OUTPUTS).astype(np.float64)  # (128, RATE)


def check_payload(payload: int) -> int:
    if isinstance(payload, bool) or not isinstance(payload, (int, np.integer)):
        raise WatermarkError(f"the payload must be an int, not {type(payload).__name__}")
    payload = int(payload)
    if payload < 0:
        raise WatermarkError(f"the payload must not be negative (got {payload})")
    if payload >= 1 << PAYLOAD_BITS:
        raise WatermarkError(f"the payload must be below 2**{PAYLOAD_BITS} (got {payload})")
    return payload


def _crc(payload: int) -> int:
    return zlib.crc32(payload.to_bytes(PAYLOAD_BITS // 8, "big"))


def _to_bits(value: int, n: int) -> list[int]:
    return [(value >> (n - 1 - i)) & 1 for i in range(n)]


def encode(payload: int) -> np.ndarray:
    """The CODED_BITS coded bits (uint8 0/1) of a payload."""
    payload = check_payload(payload)
    info = _to_bits(payload, PAYLOAD_BITS) + _to_bits(_crc(payload), CRC_BITS) + [0] * _MEMORY
    state = 0
    out = np.empty((len(info), RATE), dtype=np.uint8)
    for t, u in enumerate(info):
        register = (u << _MEMORY) | state
        out[t] = _OUTPUTS[register]
        state = register >> 1
    return out.ravel()


def symbols(payload: int) -> np.ndarray:
    """The antipodal symbols (+1 for a 0 bit, -1 for a 1 bit) of a payload's coded bits."""
    return 1.0 - 2.0 * encode(payload).astype(np.float64)


def viterbi(soft: np.ndarray) -> np.ndarray:
    """The info bits (without tail) of the zero-terminated codeword that correlates best
    with `soft` (length CODED_BITS, one estimate of each antipodal symbol)."""
    soft = np.asarray(soft, dtype=np.float64)
    if soft.shape != (CODED_BITS,):
        raise WatermarkError(f"expected {CODED_BITS} soft values, got shape {soft.shape}")
    steps = soft.reshape(-1, RATE)
    branch = steps @ _SYMBOLS.T  # (steps, 128): metric of each register value at each step
    # Next state ns comes from register r = 2*ns + o (o = the bit shifted out), state r & 63.
    ns = np.arange(_STATES)
    regs = np.stack([2 * ns, 2 * ns + 1])  # (2, states)
    prev = regs & (_STATES - 1)
    metric = np.full(_STATES, -np.inf)
    metric[0] = 0.0
    decisions = np.empty((len(steps), _STATES), dtype=np.uint8)
    for t in range(len(steps)):
        cand = metric[prev] + branch[t][regs]
        choice = np.argmax(cand, axis=0)
        decisions[t] = choice
        metric = cand[choice, ns]
    state, bits = 0, np.empty(len(steps), dtype=np.uint8)
    for t in range(len(steps) - 1, -1, -1):
        bits[t] = state >> (_MEMORY - 1)
        state = (2 * state + decisions[t, state]) & (_STATES - 1)
    return bits[:INFO_BITS]


def decode(soft: np.ndarray) -> int | None:
    """The payload whose coded bits best explain `soft`, or None if its CRC fails."""
    bits = viterbi(soft)
    payload = int("".join(map(str, bits[:PAYLOAD_BITS])), 2)
    crc = int("".join(map(str, bits[PAYLOAD_BITS:])), 2)
    return payload if _crc(payload) == crc else None
