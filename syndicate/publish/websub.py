"""WebSub: tell the hub which feeds changed, so subscribers get them in seconds."""

from __future__ import annotations

import logging

from .. import __version__

log = logging.getLogger(__name__)


def ping(hub: str, urls: list[str], timeout: float = 10.0) -> list[str]:
    """POST ``hub.mode=publish`` per changed feed; returns the errors, never raises."""
    errors: list[str] = []
    if not urls:
        return errors
    import httpx  # only builds that changed a feed with a hub configured need it (~60 ms)

    headers = {"User-Agent": f"syndicate/{__version__}"}
    with httpx.Client(timeout=timeout, headers=headers) as client:
        for url in urls:
            try:
                resp = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
                if resp.status_code >= 300:
                    raise httpx.HTTPStatusError(
                        f"hub answered {resp.status_code}", request=resp.request, response=resp
                    )
            except httpx.HTTPError as exc:
                msg = f"WebSub ping for {url} failed: {exc}"
                log.warning(msg)
                errors.append(msg)
    return errors
