"""The composition root: settings in, the typed configs and the runtime context out.

`configs` maps the settings onto each part's own config, `venue` names where a session's
orders go, `context` opens a session's clients into a `SessionContext`, `runner` opens the
checkpointed graph with it. Nothing below the shell reads settings.
"""
