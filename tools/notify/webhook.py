"""A Slack-compatible incoming webhook: ``POST {"text": ...}`` to a secret URL.

Slack, Mattermost, Rocket.Chat and Discord's ``/slack`` endpoint take this shape. The URL is
the credential (anyone holding it can post), so it is masked whole in logs and errors.
"""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from tools.notify.events import Event
from tools.notify.http import HttpPolicy, JsonPoster


class WebhookNotifier:
    """Posts each event's text to one incoming webhook."""

    channel = "webhook"

    def __init__(
        self,
        url: SecretStr,
        *,
        policy: HttpPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Build the notifier; `transport` None means the real network."""
        self._url = url
        self._http = JsonPoster(
            channel=self.channel,
            secrets=(url.get_secret_value(),),
            policy=policy or HttpPolicy(),
            transport=transport,
        )

    async def send(self, event: Event) -> None:
        """Post the event's text.

        Raises:
            NotifyUnavailableError: the webhook was unreachable, slow or failing.
            NotifyRejectedError: the webhook refused the message (revoked, malformed).
        """
        await self._http.post(self._url.get_secret_value(), {"text": event.text()})

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()
