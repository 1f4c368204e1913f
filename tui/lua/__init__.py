"""The Lua side: sandboxed runtimes with the `State` API, value conversion, script runs.

Knows nothing of Textual.
"""

from tui.lua.cancel import CancelToken, ScriptCancelled
from tui.lua.errors import ScriptError
from tui.lua.labels import script_labels
from tui.lua.runner import RunResult, RunStatus, ScriptRun
from tui.lua.runtime import LuaStateRuntime

__all__ = [
    "CancelToken",
    "LuaStateRuntime",
    "RunResult",
    "RunStatus",
    "ScriptCancelled",
    "ScriptError",
    "ScriptRun",
    "script_labels",
]
