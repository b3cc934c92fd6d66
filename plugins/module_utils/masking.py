# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keeping secrets out of what the modules print: URL passwords and known secrets masked."""

from __future__ import annotations

import re

MASK = "********"
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:@/]*:)(?P<pw>[^\s@/]+)(?P<at>@)")


def mask_url(url: str | None) -> str | None:
    """Replace the password of a URL by asterisks, keeping everything else readable."""
    if url is None:
        return None
    return _URL_PASSWORD.sub(lambda m: m.group("head") + MASK + m.group("at"), url)


def scrub(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Mask URL passwords and every known secret in free text (errors, log lines)."""
    text = mask_url(text) or ""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text
