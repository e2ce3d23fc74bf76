"""Type stubs of the native module ``isochord._isochord`` (use the ``isochord`` package)."""

from typing import List, Optional, Tuple

import numpy as np
import numpy.typing as npt

__version__: str

class IsochordError(ValueError):
    """Bad input; the message names the argument, or the file, line and field."""

def render(
    preset: str,
    seconds: float,
    sample_rate: int = 48000,
    seed: int = 0,
    automation: Optional[str] = None,
    biometrics: Optional[str] = None,
) -> npt.NDArray[np.float32]: ...
def render_session(
    preset: str,
    biometrics: str,
    out_dir: str,
    seconds: Optional[float] = None,
    seed: int = 1,
    sample_rate: int = 48000,
    overwrite: bool = False,
) -> str: ...
def presets() -> List[str]: ...
def preset_toml(name: str) -> str: ...
def features(
    path: Optional[str] = None,
    format: Optional[str] = None,
    rate: Optional[float] = None,
    rr_ms: Optional[List[float]] = None,
    eda: Optional[List[float]] = None,
    fs: Optional[float] = None,
    window: float = 60.0,
    hop: float = 5.0,
    baseline_from: Optional[float] = None,
    baseline_to: Optional[float] = None,
) -> Tuple[List[str], List[List[Optional[float]]], int]: ...
def read_log(path: str) -> str: ...
def read_timeline(path: str) -> str: ...

class Session:
    def __init__(
        self,
        preset: str,
        seconds: float = 600.0,
        sample_rate: int = 48000,
        seed: int = 1,
        biometrics: Optional[str] = "pushed",
        pacing: str = "live",
        log: Optional[str] = None,
        report: Optional[str] = None,
        overwrite: bool = False,
    ) -> None: ...
    @property
    def sample_rate(self) -> int: ...
    @property
    def preset(self) -> str: ...
    @property
    def time(self) -> float: ...
    @property
    def ended(self) -> bool: ...
    @property
    def finished(self) -> bool: ...
    def render(self, frames: int, timeout: float = 30.0) -> npt.NDArray[np.float32]: ...
    def push(self, kind: str, t: float, value: float) -> None: ...
    def set_param(self, name: str, value: float) -> None: ...
    def close_input(self) -> None: ...
    def stop(self) -> None: ...
    def events(self) -> str: ...
    def end(self) -> str: ...
