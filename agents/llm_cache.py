"""A file cache of chat-model prompts and answers, so a replayed backtest makes no LLM call.

LangChain's chat models consult a `BaseCache` before calling out: the lookup key is the
model's serialised description (model name, temperature, base URL; never the key) with the
call's parameters (the bound tool definitions, `tool_choice`, stop words), and the
conversation (messages, ids removed). `LLMAnswerCache` keeps the answers in one SQLite file
under the SHA-256 of that pair, so the same model asked the same thing about the same day
answers from the file: a second replay of a backtest costs nothing and decides identically.

A cached answer comes back with zero tokens in its `usage_metadata`, so the usage meter of a
replay counts the call but no tokens and no cost.

Where it lives: `--llm-cache PATH` of `trader backtest`, by default
`<DATA_DIR>/backtest-llm-cache.sqlite`. To clear it, delete the file (or call `clear()`); a new
model name, prompt version or tool definition misses the cache on its own, so clearing is
needed only to re-ask the same model the same question (e.g. to sample a non-zero temperature
again).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation

CACHE_FILE = "backtest-llm-cache.sqlite"
_NO_TOKENS = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_answers (
    key TEXT PRIMARY KEY,
    llm TEXT NOT NULL,
    prompt TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)
"""


def cache_key(prompt: str, llm_string: str) -> str:
    """The SHA-256 of the model description with its call parameters and the conversation."""
    digest = hashlib.sha256()
    digest.update(llm_string.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(prompt.encode("utf-8"))
    return digest.hexdigest()


class LLMAnswerCache(BaseCache):
    """Chat answers in a SQLite file, keyed by `cache_key` (thread-safe; one file per cache)."""

    def __init__(self, path: Path) -> None:
        """Open (or create) the cache file at `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._lock, self._db:
            self._db.execute(_SCHEMA)
        self.hits = 0
        self.misses = 0

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        """Return the stored answer of this call, without its token usage; None if unseen."""
        key = cache_key(prompt, llm_string)
        with self._lock:
            row = self._db.execute(
                "SELECT answer FROM llm_answers WHERE key = ?", (key,)
            ).fetchone()
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
        return [_from_json(item) for item in json.loads(row[0])]

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        """Store the answer of a call (the first answer stays if two race)."""
        key = cache_key(prompt, llm_string)
        answer = json.dumps([_to_json(g) for g in return_val], ensure_ascii=False)
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO llm_answers (key, llm, prompt, answer) VALUES (?, ?, ?, ?)",
                (key, llm_string, prompt, answer),
            )

    def clear(self, **kwargs: Any) -> None:
        """Forget every stored answer."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM llm_answers")

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM llm_answers").fetchone()
        return int(count)

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()


def _to_json(generation: Generation) -> dict[str, Any]:
    if isinstance(generation, ChatGeneration):
        return {"message": message_to_dict(generation.message), "info": generation.generation_info}
    return {"text": generation.text, "info": generation.generation_info}


def _from_json(item: dict[str, Any]) -> Generation:
    if "message" not in item:
        return Generation(text=item["text"], generation_info=item["info"])
    (message,) = messages_from_dict([item["message"]])
    if isinstance(message, AIMessage):
        message = message.model_copy(update={"usage_metadata": dict(_NO_TOKENS)})
    return ChatGeneration(message=message, generation_info=item["info"])


def cached(llm: BaseChatModel, cache: LLMAnswerCache) -> BaseChatModel:
    """Return a copy of `llm` that answers from `cache` when it can and fills it otherwise."""
    return llm.model_copy(update={"cache": cache})
