"""Money as the books keep it: exact decimals, and integers of a currency's minor unit for control totals.

Minor units follow ISO 4217: two decimals for most currencies, none for JPY, ISK, KRW…, three for KWD, BHD….
"""

from __future__ import annotations

from decimal import Decimal

#: ISO 4217 currencies whose minor unit is not a hundredth; every other currency has 2 decimals
DECIMALS = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
#: 10 ** decimals as a Decimal, per currency with other than 2 decimals (a walked page multiplies by these)
FACTORS = {currency: Decimal(10) ** d for currency, d in DECIMALS.items()}
HUNDRED = Decimal(100)


def decimals(currency: str | None) -> int:
    """Digits after the decimal mark in the currency's minor unit (2 when the code is not known)."""
    return DECIMALS.get((currency or "").upper(), 2)


def minor_units(amount: Decimal, currency: str | None) -> int:
    """The amount as an integer of the currency's minor unit, exactly; ValueError when it has more decimals
    than the currency's minor unit (it cannot be booked as written)."""
    units = amount.scaleb(decimals(currency))
    if units != units.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency or 'the currency'}'s {decimals(currency)}")
    return int(units)


def money(units: int, currency: str = "") -> str:
    """Minor units shown as an amount: 125000 DKK → "1250.00", 1500 JPY → "1500"."""
    d = decimals(currency)
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**d)
    return f"{sign}{whole}.{frac:0{d}d}" if d else f"{sign}{whole}"
