// Amounts travel as whole numbers of minor units (fen, cents, yen). Formatting shifts the
// decimal point with BigInt arithmetic so that no amount ever passes through a float.

// ISO 4217 minor-unit exponents for the codes in ledger/currencies.py. Codes not listed in an
// exception below have 2. Funds and metals without a minor unit ("N.A." in ISO 4217) count
// whole units, hence 0.
const EXPONENT_0 = [
  "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV",
  "XAF", "XOF", "XPF",
  "XAD", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX",
];
const EXPONENT_3 = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
const EXPONENT_4 = ["CLF", "UYW"];

// The same set as ledger/currencies.py CURRENCIES.
const CURRENCIES = new Set(`
  AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
  CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
  GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
  KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN
  MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD
  SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
  USD USN UYI UYU UYW UZS VED VES VND VUV WST XAD XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD
  XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG
`.trim().split(/\s+/));

export function minorExponent(currency) {
  const code = String(currency).toUpperCase();
  if (!CURRENCIES.has(code)) throw new RangeError(`unknown currency ${currency}`);
  if (EXPONENT_0.includes(code)) return 0;
  if (EXPONENT_3.includes(code)) return 3;
  if (EXPONENT_4.includes(code)) return 4;
  return 2;
}

function groupThousands(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

// formatMinor("123456", "CNY") -> "1,234.56"; formatMinor("123456", "JPY") -> "123,456".
export function formatMinor(amount, currency) {
  const text = typeof amount === "bigint" ? amount.toString() : String(amount).trim();
  if (!/^-?\d+$/.test(text)) throw new TypeError(`not a whole number of minor units: ${amount}`);
  const value = BigInt(text);
  const exponent = minorExponent(currency);
  const sign = value < 0n ? "-" : "";
  const magnitude = value < 0n ? -value : value;
  const unit = 10n ** BigInt(exponent);
  const whole = groupThousands((magnitude / unit).toString());
  if (exponent === 0) return sign + whole;
  return `${sign}${whole}.${(magnitude % unit).toString().padStart(exponent, "0")}`;
}

// What a person types, in major units, as the whole number of minor units the service takes:
// parseMajor("1,234.5", "CNY") -> "123450"; parseMajor("500", "JPY") -> "500". Thousands
// separators are allowed; a sign, more decimals than the currency has, or anything else is refused.
export function parseMajor(text, currency) {
  const exponent = minorExponent(currency);
  const typed = String(text).trim();
  const match = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d*))?$/.exec(typed) || /^()\.(\d+)$/.exec(typed);
  if (!match || (match[1] === "" && !match[2])) throw new TypeError(`not an amount: ${text}`);
  const fraction = match[2] || "";
  if (fraction.length > exponent) {
    throw new RangeError(`${currency} has ${exponent} decimal${exponent === 1 ? "" : "s"}: ${text}`);
  }
  const digits = (match[1] || "0").replaceAll(",", "") + fraction.padEnd(exponent, "0");
  return BigInt(digits).toString();
}

// Prices per play travel in micro-units of the minor unit (millionths of a fen or cent).
// formatMicroMinor("2500", "CNY") -> "0.000025": major units, exact, trailing zeros dropped
// down to the currency's own decimals.
export function formatMicroMinor(micro, currency) {
  const text = typeof micro === "bigint" ? micro.toString() : String(micro).trim();
  if (!/^\d+$/.test(text)) throw new TypeError(`not a whole number of micro-units: ${micro}`);
  const exponent = minorExponent(currency);
  const places = exponent + 6;
  const value = BigInt(text);
  const unit = 10n ** BigInt(places);
  const whole = groupThousands((value / unit).toString());
  const fraction = (value % unit).toString().padStart(places, "0").replace(/0+$/, "");
  const shown = fraction.padEnd(exponent, "0");
  return shown ? `${whole}.${shown}` : whole;
}
