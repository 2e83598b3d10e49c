"""ISO 4217 currency codes that amounts may be reported and settled in (minor units always)."""

from decimal import Decimal

CURRENCIES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN
    BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
    FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
    MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON
    RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP
    TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAD XAF XAG XAU XBA XBB
    XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG
    """.split()
)

# ISO 4217 minor units where they are not 2 (as in api/console/static/currency.js): amounts in
# these currencies are kept in whole units, thousandths or ten-thousandths.
_NO_MINOR_UNIT = frozenset(
    """
    BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF XAD XAG XAU XBA XBB XBC
    XBD XDR XPD XPT XSU XTS XUA XXX
    """.split()
)
_THREE_DECIMALS = frozenset(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"))
_FOUR_DECIMALS = frozenset(("CLF", "UYW"))


def minor_unit(code: str) -> int:
    """How many decimals the currency's minor unit has: 2 for CNY (fen), 0 for JPY, 3 for KWD.
    A settlement token's `decimals()` must equal it, since amounts move as minor units."""
    code = code.upper()
    if code not in CURRENCIES:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    if code in _NO_MINOR_UNIT:
        return 0
    if code in _THREE_DECIMALS:
        return 3
    return 4 if code in _FOUR_DECIMALS else 2


def major(amount: int, currency: str) -> str:
    """`amount` minor units as people read it: `major(146, "CNY")` is "1.46 CNY", `major(5, "JPY")` "5 JPY"."""
    digits = minor_unit(currency)
    return f"{Decimal(amount).scaleb(-digits):.{digits}f} {currency.upper()}"


def in_both_units(amount: int, currency: str) -> str:
    """`amount` as people read it and as a request's amount field counts it, for a refusal that
    answers such a field: "5.04 CNY (504 minor units)"."""
    return f"{major(amount, currency)} ({amount} minor units)"


def major_micro(micro: int, currency: str) -> str:
    """`micro` millionths of a minor unit (a price per play or minute) in major units, as many
    decimals as it needs and at least the currency's: 20000 micro-fen is "0.0002 CNY"."""
    digits = minor_unit(currency)
    text = f"{Decimal(micro).scaleb(-digits - 6):.{digits + 6}f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    decimals = decimals.ljust(digits, "0")
    return f"{whole}.{decimals} {currency.upper()}" if decimals else f"{whole} {currency.upper()}"
