"""Voice Live Bridge agent for wsdeck tests: the SDK's typed ``VoiceAgentServerHost``.

The SDK owns ``/invocations_ws`` and checks every inbound frame (``type``, ``id``, an RFC 3339
``ts``, id prefixes ``m_``/``in_``/``r_``); the callbacks here only answer:

* ``session.start`` -> ``session.ready``;
* ``user.message``  -> ``response.created`` (``in_reply_to`` the message's ``item_id``), one
  ``response.output_text.delta`` per word of ``you said: <text>``, then
  ``response.output_text.done`` and ``response.done``, all under one ``response_id``;
* ``session.end``   -> the host returns, so the SDK closes 1000.

Run: ``PORT=8099 python tests/agents/voice_agent.py`` (port defaults to 8088).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from azure.ai.agentserver.invocations.voice import (  # noqa: E402
    ResponseCreated,
    ResponseDone,
    ResponseOutputTextDelta,
    ResponseOutputTextDone,
    Session,
    SessionReady,
    SessionStart,
    UserMessage,
    VoiceAgentServerHost,
    new_item_id,
    new_response_id,
)

from _common import host_kwargs, run  # noqa: E402


def build_app() -> VoiceAgentServerHost:
    app = VoiceAgentServerHost(**host_kwargs())

    @app.on_session_start
    async def on_start(session: Session, _event: SessionStart) -> None:
        await session.send(SessionReady())

    @app.on_user_message
    async def on_message(session: Session, event: UserMessage) -> None:
        said = " ".join(part.text for part in event.content)
        reply = f"you said: {said}"
        response_id = new_response_id()
        item_id = new_item_id()
        await session.send(ResponseCreated(response_id=response_id, in_reply_to=(event.item_id,)))
        words = reply.split(" ")
        for i, word in enumerate(words):
            delta = word if i == len(words) - 1 else word + " "
            await session.send(ResponseOutputTextDelta(response_id=response_id, item_id=item_id, delta=delta))
        await session.send(ResponseOutputTextDone(response_id=response_id, item_id=item_id, text=reply))
        await session.send(ResponseDone(response_id=response_id))

    return app


if __name__ == "__main__":
    run(build_app())
