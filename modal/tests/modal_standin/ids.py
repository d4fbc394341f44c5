"""Object ids shaped like Modal's (`ap-` + 22 alphanumerics): the client checks some of them with a regex."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """A fresh id with Modal's prefix for the object kind (ap, fu, cs, fc, in, vo, st, im, mo, bl, en)."""
    return f"{prefix}-" + "".join(secrets.choice(_ALPHABET) for _ in range(22))


def new_token_pair() -> tuple:
    """The one token id/secret pair this stand-in accepts (Modal's `ak-` / `as-` prefixes)."""
    return new_id("ak"), new_id("as")
