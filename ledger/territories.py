"""Territories as licence bits: bit i of a licence's territory mask is `TERRITORIES[i]`.

The table is ISO 3166-1 alpha-2 as it stood when ReelLedger was first deployed, in alphabetical
order, and is frozen: licences on chain refer to these bit positions forever. A code added to
the standard later is appended at the end (256 bits leave room for seven).
"""

from __future__ import annotations

TERRITORIES: tuple[str, ...] = (
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
)
assert len(TERRITORIES) <= 256 and len(set(TERRITORIES)) == len(TERRITORIES)

_BIT = {code: i for i, code in enumerate(TERRITORIES)}
WORLDWIDE = "WW"  # shorthand for every territory in the table


def territory_bit(code: str) -> int:
    """The bit index of one ISO 3166-1 alpha-2 code."""
    try:
        return _BIT[code.strip().upper()]
    except KeyError:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 territory code") from None


def territory_mask(codes: list[str] | tuple[str, ...]) -> int:
    """The licence mask of a list of codes; "WW" stands for all of them."""
    if not codes:
        raise ValueError("at least one territory is needed")
    mask = 0
    for code in codes:
        if code.strip().upper() == WORLDWIDE:
            return (1 << len(TERRITORIES)) - 1
        mask |= 1 << territory_bit(code)
    return mask


def territory_codes(mask: int) -> list[str]:
    return [code for i, code in enumerate(TERRITORIES) if mask >> i & 1]
