"""How the digital signature's evidence reads: verification codes and devices."""

import re
import secrets

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed by hand
CODE_GROUPS = 3


def verification_code_new() -> str:
    groups = ("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(CODE_GROUPS))
    return "-".join(groups)


def verification_code_normalize(text: str) -> str:
    """What a person typed (spaces, lower case, no dashes) as the stored form ABCD-EFGH-JKLM."""
    letters = re.sub(r"[^0-9A-Za-z]", "", text or "").upper()
    return "-".join(letters[i : i + 4] for i in range(0, len(letters), 4))


def device_summary(user_agent: str) -> str:
    """'Chrome em Android' from a user agent: enough for a person reading the evidence."""
    browsers = (
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
    )
    systems = (
        ("Android", "Android"),
        ("iPhone", "iPhone (iOS)"),
        ("iPad", "iPad (iOS)"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    )
    browser = next((name for token, name in browsers if token in user_agent), "")
    system = next((name for token, name in systems if token in user_agent), "")
    if browser and system:
        return f"{browser} em {system}"
    return browser or system or "não identificado"
