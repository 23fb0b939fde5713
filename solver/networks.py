"""The trained reconstruction network: a U-Net on the zero-filled image.

This is the *learned* side of the comparison: a U-Net with the layout of the one in
Colbrook, Antun & Hansen (PNAS 2022) maps the zero-filled reconstruction ``A* y`` (two
channels, real and imaginary part) to the image. Its weights are trained
(``solver.train``), not computed, and are shipped as safetensors with a JSON model card
beside them. The paper's U-Net is plain (32 base features, no residual, no
data-consistency layer: ``residual=False, data_consistency=False, base_width=32``); the
explorer's default network adds a residual connection and a data-consistency last layer,
a design that makes it more accurate and is only mildly unstable (worst-case K about 3).

Public surface
--------------
UNet
    The convolutional network, ``(B, 2, N, N) -> (B, 1, N, N)``.
LearnedReconstruction
    ``y (..., M) complex -> image (..., N, N) real``: the operator's adjoint, then the U-Net.
    Differentiable with respect to ``y`` (the attack code needs that).
data_consistency
    The parameter-free last layer ``x + Re A*(y - A x)``: put the measured Fourier
    coefficients back into the network's image.
UNetThenFIRENET
    FIRENET started from the U-Net's output: FIRENET's computed layers after the trained network.
save_network, load_network
    Safetensors weights plus a model card that records the architecture, the training
    configuration and the sha256 of the weights file; loading checks both.
check_compatibility
    Human-readable warnings when the network is used away from its training setting.

Notes
-----
Only safetensors files are read: they hold tensors and nothing else, so loading shipped
weights never runs code (a pickled ``torch.save`` file can).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "UNet",
    "LearnedReconstruction",
    "UNetThenFIRENET",
    "data_consistency",
    "save_network",
    "load_network",
    "card_path",
    "file_sha256",
    "mask_sha256",
    "check_compatibility",
    "check_card",
    "CARD_FORMAT",
    "MAX_PARAMETERS",
    "DEFAULT_WEIGHTS",
    "PAPER_RECIPE_WEIGHTS",
]

#: Version of the model-card layout written by :func:`save_network`.
CARD_FORMAT = 1

#: The shipped network (trained for the explorer's default preset).
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "unet_multilevel_r25_n256.safetensors"

#: A U-Net trained by the paper's plain recipe (32 base features, input A* y, no residual,
#: no data-consistency layer) at N = 64, multilevel 25 %: the kind of network the paper
#: shows unstable. Its card records its measured accuracy, worst-case K and kernel bound.
PAPER_RECIPE_WEIGHTS = Path(__file__).resolve().parent / "weights" / "unet_plain_multilevel_r25_n64.safetensors"

_NORMS = ("batch", "group", "instance", "none")

# Caps on what a model card may ask the loader to build. The shipped network has
# base_width 16, depth 4 and 1.9 M parameters; the caps leave room for larger trained
# networks (base_width 64 at depth 4 has 31 M) but not for a card that asks for gigabytes.
_ARCHITECTURE_RANGES = {"in_channels": (1, 8), "out_channels": (1, 8), "base_width": (1, 256),
                        "depth": (1, 6)}
#: Most parameters (and buffers) a loaded network may have: 2**25, 128 MiB in float32.
MAX_PARAMETERS = 2**25
_MAX_CARD_BYTES = 2**20
_MAX_HEADER_BYTES = 2**20
_MAX_TEXT = 256
_HEX64 = re.compile(r"[0-9a-f]{64}")
_OPERATORS = ("fourier", "walsh")
# Bytes per value of the safetensors dtypes a U-Net's state may be stored in: any float
# for weights (load_state_dict converts), int64 for batch norm's counter.
_FLOAT_CODES = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8}
_INT_CODES = {"I64": 8}


def _norm_layer(norm: str, channels: int) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "group":
        # 8 channels per group: the smallest width used (8) still gets one full group.
        return nn.GroupNorm(max(1, channels // 8), channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    return nn.Identity()


class _Block(nn.Sequential):
    """Two (3x3 conv, normalisation, ReLU) layers, as in the paper's U-Net."""

    def __init__(self, in_channels: int, out_channels: int, norm: str) -> None:
        # A conv followed by a normalisation with a learned shift needs no bias of its own.
        bias = norm == "none"
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=bias),
            _norm_layer(norm, out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=bias),
            _norm_layer(norm, out_channels),
            nn.ReLU(inplace=True),
        )


class UNet(nn.Module):
    """U-Net with ``depth`` down-sampling stages (the paper's shape).

    Encoder: a block of two (3x3 conv, normalisation, ReLU) per scale, 2x2 max-pooling
    between scales, widths ``base_width * 2**k``. Decoder: 2x2 transposed-conv
    up-sampling, concatenation with the encoder's skip connection, a block. A 1x1
    convolution gives the output.

    Parameters
    ----------
    in_channels : int, default 2
        Input channels (real and imaginary part of ``A* y``).
    out_channels : int, default 1
        Output channels (the real image).
    base_width : int, default 16
        Channels of the first block; doubles at each down-sampling stage.
    depth : int, default 4
        Number of down-sampling stages. Input sides must be divisible by ``2**depth``.
    residual : bool, default True
        If True, the output is ``x[:, 0] + correction``: the network learns only the
        correction to the real part of the zero-filled image. The final 1x1 conv is
        initialised to zero, so an untrained network returns ``Re(A* y)`` exactly.
    norm : {"batch", "group", "instance", "none"}, default "batch"
        Normalisation in every block. Batch norm (the paper's choice) uses its running
        statistics in eval mode: then each layer is a fixed per-channel affine map, the
        output does not depend on the batch size or on the image size (training on crops,
        running on full images), and the forward pass is deterministic.
    data_consistency : bool, default False
        Whether the network was trained with a data-consistency last layer (see
        :func:`data_consistency`). That layer needs the sampling operator, so the U-Net
        itself does not apply it: :class:`LearnedReconstruction` does, whenever this flag
        is set. Recording it here keeps it in the model card's architecture, so a loaded
        network is always used the way it was trained.

    Raises
    ------
    ValueError
        If a width, the depth or ``norm`` is invalid.
    """

    def __init__(
        self,
        in_channels: int = 2,
        out_channels: int = 1,
        base_width: int = 16,
        depth: int = 4,
        residual: bool = True,
        norm: str = "batch",
        data_consistency: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(base_width, int) or base_width < 1:
            raise ValueError(f"base_width must be a positive integer, got {base_width!r}")
        if not isinstance(depth, int) or not 1 <= depth <= 8:
            raise ValueError(f"depth must be an integer in 1..8, got {depth!r}")
        if norm not in _NORMS:
            raise ValueError(f"norm must be one of {_NORMS}, got {norm!r}")
        if residual and out_channels != 1:
            raise ValueError(f"residual=True needs out_channels=1, got {out_channels}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.base_width = base_width
        self.depth = depth
        self.residual = bool(residual)
        self.norm = norm
        self.data_consistency = bool(data_consistency)

        widths = [base_width * 2**k for k in range(depth + 1)]
        self.down = nn.ModuleList()
        previous = in_channels
        for width in widths[:-1]:
            self.down.append(_Block(previous, width, norm))
            previous = width
        self.pool = nn.MaxPool2d(2)
        self.bottom = _Block(widths[-2], widths[-1], norm)
        self.upsample = nn.ModuleList()
        self.up = nn.ModuleList()
        for k in reversed(range(depth)):
            self.upsample.append(nn.ConvTranspose2d(widths[k + 1], widths[k], 2, stride=2))
            self.up.append(_Block(2 * widths[k], widths[k], norm))
        self.head = nn.Conv2d(widths[0], out_channels, 1)
        if self.residual:
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    @property
    def architecture(self) -> dict[str, Any]:
        """The constructor arguments, as recorded in the model card."""
        return {
            "class": type(self).__name__,
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "base_width": self.base_width,
            "depth": self.depth,
            "residual": self.residual,
            "norm": self.norm,
            "data_consistency": self.data_consistency,
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the network.

        Parameters
        ----------
        x : torch.Tensor, shape (B, in_channels, H, W), real floating
            H and W divisible by ``2**depth``.

        Returns
        -------
        torch.Tensor, shape (B, out_channels, H, W), same dtype as the parameters
        """
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"x must have shape (B, {self.in_channels}, H, W), got {tuple(x.shape)}"
            )
        factor = 2**self.depth
        if x.shape[-1] % factor or x.shape[-2] % factor:
            raise ValueError(
                f"x's height and width must be divisible by {factor} (depth {self.depth}), "
                f"got {tuple(x.shape[-2:])}"
            )
        skips = []
        h = x
        for block in self.down:
            h = block(h)
            skips.append(h)
            h = self.pool(h)
        h = self.bottom(h)
        for upsample, block, skip in zip(self.upsample, self.up, reversed(skips)):
            h = block(torch.cat([upsample(h), skip], dim=1))
        out = self.head(h)
        if self.residual:
            out = out + x[:, :1]
        return out


def data_consistency(operator: Any, image: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Replace the sampled coefficients of ``image`` by the measurements: ``x + Re A*(y - A x)``.

    For the subsampled unitary operators here (``A A* = I``), ``A*(y - A x)`` is the
    orthogonal projection's correction: the result has exactly the measured coefficients
    ``y`` on the mask and the network's coefficients elsewhere. Taking the real part keeps
    the image real (the mask is not conjugate-symmetric, so the projection alone would
    make it complex). The layer has no trained weights; it is a fixed linear map of
    ``(x, y)`` computed from the mask, like FIRENET's layers.

    Parameters
    ----------
    operator : SubsampledFourier or SubsampledWalsh
    image : torch.Tensor, shape (..., N, N), real
    y : torch.Tensor, shape (..., M), complex

    Returns
    -------
    torch.Tensor, shape (..., N, N), real, dtype of ``image``
    """
    residual = y - operator.forward(image.to(y.dtype))
    return image + operator.adjoint(residual).real.to(image.dtype)


def _complex_to_channels(image: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(B, N, N) complex -> (B, 2, N, N) real of ``dtype`` (real, imaginary)."""
    return torch.stack([image.real, image.imag], dim=1).to(dtype)


class LearnedReconstruction(nn.Module):
    """Measurements to image through the trained U-Net: ``f(y) = UNet([Re, Im](A* y))``.

    If the U-Net was trained with a data-consistency last layer
    (``unet.data_consistency``), that layer follows: ``f(y) = DC(UNet(A* y), y)``.

    Parameters
    ----------
    operator : SubsampledFourier or SubsampledWalsh
        The sampling operator the data come from (``solver.operators``); its ``adjoint``
        gives the zero-filled image.
    unet : UNet
        The trained network. The module is put in eval mode and its parameters are frozen
        (gradients with respect to ``y`` still flow, which is what the attacks need).

    Notes
    -----
    Like every reconstruction network in this project, ``forward`` maps
    ``y (..., M) complex`` to a real image ``(..., N, N)``. The U-Net runs in its own
    parameter dtype (float32); the output is returned in the real dtype matching ``y``
    (float32 for complex64, float64 for complex128). ``.to(device)`` moves the operator
    too.
    """

    def __init__(self, operator: Any, unet: UNet) -> None:
        super().__init__()
        if not isinstance(unet, UNet):
            raise ValueError(f"unet must be a UNet, got {type(unet).__name__}")
        for attribute in ("adjoint", "size"):
            if not hasattr(operator, attribute):
                raise ValueError(
                    f"operator must provide .{attribute} (a solver.operators operator), "
                    f"got {type(operator).__name__}"
                )
        self.operator = operator
        self.unet = unet
        self.unet.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "LearnedReconstruction":
        # Batch norm must use its running statistics here: in train mode one image's
        # output would depend on the rest of the batch. Training uses the UNet directly.
        return super().train(False)

    def to(self, *args: Any, **kwargs: Any) -> "LearnedReconstruction":
        super().to(*args, **kwargs)
        # The operator is not a submodule (its dtype is its own, not the U-Net's): it only
        # follows the U-Net to the device ``.to`` put the parameters on.
        device = self.unet.head.weight.device
        placed = isinstance(self.operator, nn.Module) and all(
            tensor.device == device for tensor in self.operator.buffers()
        )
        if not placed and hasattr(self.operator, "to"):
            self.operator = self.operator.to(device)
        return self

    def zero_filled(self, y: torch.Tensor) -> torch.Tensor:
        """The network's input image ``A* y``, shape (..., N, N), complex."""
        return self.operator.adjoint(y)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """Reconstruct.

        Parameters
        ----------
        y : torch.Tensor, shape (..., M), complex64 or complex128
            Measurements, in the operator's order.

        Returns
        -------
        torch.Tensor, shape (..., N, N), real (float32 for complex64 input)
        """
        if not torch.is_tensor(y) or not y.is_complex():
            raise ValueError(
                f"y must be a complex tensor, got {type(y).__name__} "
                f"{getattr(y, 'dtype', '')}"
            )
        image = self.operator.adjoint(y)
        n = image.shape[-1]
        batch_shape = image.shape[:-2]
        param_dtype = self.unet.head.weight.dtype
        x = _complex_to_channels(image.reshape(-1, n, n), param_dtype)
        out = self.unet(x)[:, 0]
        real_dtype = torch.float64 if y.dtype == torch.complex128 else torch.float32
        out = out.reshape(*batch_shape, n, n).to(real_dtype)
        if self.unet.data_consistency:
            out = data_consistency(self.operator, out, y)
        return out


class UNetThenFIRENET(nn.Module):
    """FIRENET started from the U-Net's output: ``FIRENET(y, x0 = U-Net(y))``.

    The trained network proposes an image; FIRENET's unrolled primal-dual layers, with
    weights computed from the operator, then pull it towards the solution of the
    sqrt-LASSO for the same data. The composition is an ordinary reconstruction network
    (``y (..., M) complex -> real image (..., N, N)``), differentiable in ``y``.

    Parameters
    ----------
    learned : LearnedReconstruction
        The trained network.
    firenet : solver.firenet.FIRENET
        A FIRENET for the same sampling (its operator's sampling mask must equal the
        learned network's).
    """

    def __init__(self, learned: LearnedReconstruction, firenet: nn.Module) -> None:
        super().__init__()
        if not isinstance(learned, LearnedReconstruction):
            raise ValueError(
                f"learned must be a LearnedReconstruction, got {type(learned).__name__}"
            )
        if not isinstance(firenet, nn.Module):
            raise ValueError(f"firenet must be an nn.Module, got {type(firenet).__name__}")
        self.learned = learned
        self.firenet = firenet

    def forward(self, y: torch.Tensor, callback: Any = None) -> torch.Tensor:
        """Reconstruct: the U-Net's image is FIRENET's starting point ``x0``.

        Parameters
        ----------
        y : torch.Tensor, shape (..., M), complex
        callback : callable, optional
            Passed on to FIRENET (one record per layer).

        Returns
        -------
        torch.Tensor, shape (..., N, N), real
        """
        x0 = self.learned(y)
        return self.firenet(y, x0=x0.to(y.real.dtype), callback=callback)


# ---------------------------------------------------------------------------------------
# Files: safetensors weights + JSON model card
# ---------------------------------------------------------------------------------------


def card_path(path: str | Path) -> Path:
    """The model card beside a weights file: ``name.safetensors -> name.json``."""
    return Path(path).with_suffix(".json")


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def mask_sha256(mask: np.ndarray | torch.Tensor) -> str:
    """Hex sha256 of a sampling mask.

    The hashed bytes are the mask as a C-contiguous numpy ``bool`` array (one byte per
    entry, row-major on the centred grid) followed by nothing else; the shape is recorded
    separately in the model card.
    """
    if torch.is_tensor(mask):
        mask = mask.detach().cpu().numpy()
    array = np.ascontiguousarray(np.asarray(mask, dtype=bool))
    if array.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {array.shape}")
    return hashlib.sha256(array.tobytes()).hexdigest()


def save_network(path: str | Path, model: UNet, card: Mapping[str, Any]) -> Path:
    """Write ``model``'s weights as safetensors and its model card beside them.

    Parameters
    ----------
    path : str or Path
        Destination, ending in ``.safetensors``. The card goes to ``card_path(path)``.
    model : UNet
        The network. Its architecture is written into the card (overriding any
        ``card["architecture"]``).
    card : mapping
        Everything else the card should say (training configuration, metrics, ...).
        Must be JSON-serialisable.

    Returns
    -------
    Path
        The card's path.
    """
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"path must end in .safetensors, got {str(path)!r}")
    if not isinstance(model, UNet):
        raise ValueError(f"model must be a UNet, got {type(model).__name__}")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Contiguous CPU copies: safetensors refuses views, and the file must not depend on
    # the training device.
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(path), metadata={"format": "pt", "card": card_path(path).name})
    full_card = dict(card)
    full_card["card_format"] = CARD_FORMAT
    full_card["architecture"] = model.architecture
    full_card["weights_file"] = path.name
    full_card["weights_sha256"] = file_sha256(path)
    out = card_path(path)
    out.write_text(json.dumps(full_card, indent=2, sort_keys=False) + "\n")
    return out


def load_network(
    path: str | Path | None = None, device: str | torch.device = "cpu"
) -> tuple[UNet, dict[str, Any]]:
    """Load a U-Net from safetensors and check it against its model card.

    Nothing from the files is trusted before it is checked: the card's schema (types and
    ranges of every field the project reads, architecture sizes capped), the file's size
    and sha256, the safetensors header (names, dtypes and shapes of exactly the tensors
    the card's architecture has), and every value (finite; batch-norm variances >= 0).
    Memory is only allocated for sizes that passed these checks, and every failure is a
    ``ValueError`` (or ``FileNotFoundError``) with a message that says what was wrong.

    Parameters
    ----------
    path : str or Path, optional
        A ``.safetensors`` file with a ``.json`` model card beside it. Default: the module's
        ``DEFAULT_WEIGHTS`` (looked up at call time, so it can be replaced).
    device : str or torch.device, default "cpu"

    Returns
    -------
    model : UNet
        In eval mode.
    card : dict
        The model card (its checked fields as described in :func:`check_card`; other
        fields, e.g. free text, as written).

    Raises
    ------
    ValueError
        If the path is not a ``.safetensors`` file, the card is not a valid model card,
        a file is too large, the weights' sha256 differs from the card's, the file is not
        valid safetensors, its tensors do not fit the card's architecture, a value is not
        finite, or the network's output on a probe input is not finite.
    FileNotFoundError
        If the weights or the card are missing.
    """
    path, device, card_file = _weights_files(path, device)
    card = check_card(_read_card(card_file), where=f"model card {card_file.name}")
    architecture = {k: v for k, v in card["architecture"].items() if k != "class"}
    model = _checked_model(architecture, _checked_state(path, card, _expected_tensors(architecture)), path.name)
    try:
        model.to(device)
    except (RuntimeError, AssertionError) as error:  # e.g. CUDA asked for, not available
        raise ValueError(f"device {str(device)!r} cannot hold the network: {error}") from error
    return model, card


def _weights_files(path: Any, device: Any) -> tuple[Path, torch.device, Path]:
    """The weights file, the device and the card file, checked to exist (and to be safetensors)."""
    if not isinstance(path, (str, Path, type(None))):
        raise ValueError(f"path must be a str or Path, got {type(path).__name__}")
    path = Path(DEFAULT_WEIGHTS if path is None else path)
    if path.suffix != ".safetensors":
        raise ValueError(
            f"path must be a .safetensors file (pickled weights are not loaded), got {str(path)!r}"
        )
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must name a torch device, got {device!r}") from error
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    card_file = card_path(path)
    if not card_file.is_file():
        raise FileNotFoundError(
            f"model card not found: {card_file} (every weights file needs its card)"
        )
    return path, device, card_file


def _checked_state(path: Path, card: dict[str, Any],
                   expected: dict[str, tuple[torch.dtype, tuple[int, ...]]]) -> dict[str, torch.Tensor]:
    """The tensors of ``path``, read once its size, sha256, header and values passed."""
    data = _read_capped(path, _weights_bytes_cap(expected), "weights file")
    actual = hashlib.sha256(data).hexdigest()
    if card["weights_sha256"] != actual:
        raise ValueError(
            f"weights sha256 mismatch for {path.name}: card says {card['weights_sha256']}, "
            f"file has {actual}"
        )
    # The bytes that were hashed are the bytes that are read: the file cannot change
    # between the check and the load.
    _check_safetensors_header(data, expected, path.name)
    state = _read_safetensors(data, path.name)
    del data
    _check_values(state, path.name)
    return state


def _checked_model(architecture: dict[str, Any], state: dict[str, torch.Tensor], name: str) -> UNet:
    """The U-Net of ``architecture`` holding ``state``, in eval mode, its probe output finite."""
    model = UNet(**architecture)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:  # names and shapes were checked; anything else it refuses
        raise ValueError(
            f"weights in {name} do not match the card's architecture: {error}"
        ) from error
    model.eval()
    _check_probe(model, name)
    return model


def check_card(card: Any, *, where: str = "model card") -> dict[str, Any]:
    """Check a model card's schema: every field the project reads, with its type and range.

    Parameters
    ----------
    card : Any
        The parsed JSON of a model card.
    where : str, keyword-only
        Name used in messages (e.g. the card's file name).

    Returns
    -------
    dict
        ``card`` itself, now known to have: ``weights_sha256`` (64 lowercase hex digits);
        ``architecture`` with exactly the :class:`UNet` fields (``class`` "UNet",
        ``in_channels`` and ``out_channels`` in 1..8, ``base_width`` in 1..256,
        ``depth`` in 1..6, ``residual`` and ``data_consistency`` bools, ``norm`` one of
        the norms) and at most :data:`MAX_PARAMETERS` parameters; ``sampling`` an object
        with ``pattern`` (text), ``rate`` (finite, in (0, 1]), ``seed`` (integer >= 0)
        and ``mask_sha256`` (64 hex digits); ``image_size`` an integer in 8..4096;
        ``operator`` "fourier" or "walsh"; ``card_format`` (if present) an integer.

    Raises
    ------
    ValueError
        Naming the first field that is missing or wrong, and what it holds.
    """
    _expect(isinstance(card, dict), f"{where} must be a JSON object, got {_kind(card)}")
    _hex64(card, "weights_sha256", where, "")
    if "card_format" in card:
        _integer(card, "card_format", where, "", 1, CARD_FORMAT)

    architecture = _field(card, "architecture", where, "", dict)
    unknown = sorted(set(architecture) - _ARCHITECTURE_FIELDS)
    _expect(not unknown, f"{where}: architecture has unknown fields {_short(unknown)}")
    missing = sorted(_ARCHITECTURE_FIELDS - set(architecture))
    _expect(not missing, f"{where}: architecture lacks the fields {missing}")
    _expect(architecture["class"] == "UNet",
            f"{where}: architecture.class must be 'UNet', got {_short(architecture['class'])}")
    for name, (low, high) in _ARCHITECTURE_RANGES.items():
        _integer(architecture, name, where, "architecture.", low, high)
    for name in ("residual", "data_consistency"):
        _field(architecture, name, where, "architecture.", bool)
    _expect(architecture["norm"] in _NORMS,
            f"{where}: architecture.norm must be one of {_NORMS}, got {_short(architecture['norm'])}")
    _expect(not (architecture["residual"] and architecture["out_channels"] != 1),
            f"{where}: architecture.residual needs out_channels 1, got {architecture['out_channels']}")

    sampling = _field(card, "sampling", where, "", dict)
    pattern = _field(sampling, "pattern", where, "sampling.", str)
    _expect(0 < len(pattern) <= _MAX_TEXT,
            f"{where}: sampling.pattern must be 1 to {_MAX_TEXT} characters, got {len(pattern):,}")
    rate = _field(sampling, "rate", where, "sampling.", float)
    _expect(0 < rate <= 1, f"{where}: sampling.rate must be in (0, 1], got {rate!r}")
    _integer(sampling, "seed", where, "sampling.", 0, 2**63 - 1)
    _hex64(sampling, "mask_sha256", where, "sampling.")

    _integer(card, "image_size", where, "", 8, 4096)
    operator = _field(card, "operator", where, "", str)
    _expect(operator in _OPERATORS,
            f"{where}: operator must be one of {_OPERATORS}, got {_short(operator)}")
    return card


_ARCHITECTURE_FIELDS = frozenset(
    {"class", "in_channels", "out_channels", "base_width", "depth", "residual", "norm",
     "data_consistency"}
)
_JSON_KINDS = {dict: "an object", str: "a string", bool: "true or false", int: "an integer",
               float: "a number"}


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _kind(value: Any) -> str:
    """JSON's name for a value's type (what the card's author wrote), not Python's."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    for kind, label in _JSON_KINDS.items():  # bool before int: True is an int in Python
        if isinstance(value, kind):
            return label
    return type(value).__name__


def _short(value: Any) -> str:
    """A value for a message: its repr, cut to 60 characters (a card can hold anything)."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}... ({len(text):,} characters)"


def _field(mapping: dict[str, Any], name: str, where: str, path: str, kind: type) -> Any:
    """``mapping[name]``, which must be present and of JSON type ``kind``.

    ``where`` names the card, ``path`` the enclosing object ("sampling."). ``float``
    accepts integers too (JSON may write 1.0 as 1), never booleans.
    """
    _expect(name in mapping, f"{where}: the field {path}{name} is missing")
    value = mapping[name]
    kinds = (int, float) if kind is float else kind
    ok = isinstance(value, kinds) and (kind is bool or not isinstance(value, bool))
    shown = "" if value is None or isinstance(value, (list, dict)) else f" {_short(value)}"
    _expect(ok, f"{where}: {path}{name} must be {_JSON_KINDS[kind]}, got {_kind(value)}{shown}")
    return float(value) if kind is float else value


def _integer(mapping: dict[str, Any], name: str, where: str, path: str, low: int, high: int) -> int:
    value = _field(mapping, name, where, path, int)
    _expect(low <= value <= high,
            f"{where}: {path}{name} must be in [{low}, {high}], got {_short(value)}")
    return value


def _hex64(mapping: dict[str, Any], name: str, where: str, path: str) -> None:
    value = _field(mapping, name, where, path, str)
    _expect(_HEX64.fullmatch(value) is not None,
            f"{where}: {path}{name} must be 64 lowercase hex digits (a sha256), got {_short(value)}")


def _read_capped(path: Path, cap: int, what: str) -> bytes:
    """A file's bytes, refused (before reading) if larger than ``cap``."""
    try:
        size = path.stat().st_size
        if size > cap:
            raise ValueError(
                f"{what} {path.name} is {size:,} bytes, more than the {cap:,} its card allows; "
                "refusing to read it"
            )
        with open(path, "rb") as handle:
            data = handle.read(cap + 1)
    except OSError as error:
        raise ValueError(f"{what} {path.name} could not be read: {error}") from error
    if len(data) > cap:  # the file grew after the size check
        raise ValueError(f"{what} {path.name} is larger than the {cap:,} bytes allowed")
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def _read_card(card_file: Path) -> Any:
    """The card's JSON (UTF-8, at most 1 MiB, finite numbers only), not yet checked."""
    data = _read_capped(card_file, _MAX_CARD_BYTES, "model card")
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_reject_constant,
                          parse_float=_finite_float)
    except UnicodeDecodeError as error:
        raise ValueError(f"model card {card_file.name} is not UTF-8 text: {error}") from error
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        raise ValueError(f"model card {card_file.name} is not valid JSON: {error}") from error


def _expected_tensors(architecture: dict[str, Any]) -> dict[str, tuple[torch.dtype, tuple[int, ...]]]:
    """Name -> (dtype, shape) of the U-Net's state, built on the meta device (no memory)."""
    with torch.device("meta"):
        skeleton = UNet(**architecture)
    expected = {name: (t.dtype, tuple(t.shape)) for name, t in skeleton.state_dict().items()}
    count = sum(math.prod(shape) for _, shape in expected.values())
    _expect(count <= MAX_PARAMETERS,
            f"the card's architecture (base_width {architecture['base_width']}, depth "
            f"{architecture['depth']}) has {count:,} parameters, more than the "
            f"{MAX_PARAMETERS:,} allowed")
    return expected


def _weights_bytes_cap(expected: dict[str, tuple[torch.dtype, tuple[int, ...]]]) -> int:
    """Largest weights file the architecture can have: 8 bytes a value plus the header."""
    return 8 + _MAX_HEADER_BYTES + sum(8 * math.prod(shape) for _, shape in expected.values())


def _check_safetensors_header(
    data: bytes, expected: dict[str, tuple[torch.dtype, tuple[int, ...]]], name: str
) -> None:
    """The header must list exactly the expected tensors with their dtypes and shapes.

    Read by hand (8-byte little-endian length, then JSON) so that nothing is allocated
    from a size the file states before that size is compared with the architecture's.
    """
    _expect(len(data) >= 8, f"weights file {name} is too short to be safetensors ({len(data)} bytes)")
    length = int.from_bytes(data[:8], "little")
    _expect(2 <= length <= min(_MAX_HEADER_BYTES, len(data) - 8),
            f"weights file {name} is not valid safetensors: header length {length:,} does not "
            f"fit the file's {len(data):,} bytes")
    try:
        header = json.loads(data[8 : 8 + length].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ValueError(f"weights file {name} is not valid safetensors: its header is not "
                         f"JSON ({error})") from error
    _expect(isinstance(header, dict),
            f"weights file {name} is not valid safetensors: its header is {_kind(header)}")
    header.pop("__metadata__", None)
    missing = sorted(set(expected) - set(header))
    unexpected = sorted(set(header) - set(expected))
    _expect(not missing and not unexpected,
            f"weights in {name} do not match the card's architecture: missing tensors "
            f"{missing[:5]}, unexpected tensors {[_short(k) for k in unexpected[:5]]}")
    body = len(data) - 8 - length
    for key, (dtype, shape) in expected.items():
        entry = header[key]
        codes = _FLOAT_CODES if dtype.is_floating_point else _INT_CODES
        ok = (
            isinstance(entry, dict)
            and entry.get("dtype") in codes
            and isinstance(entry.get("shape"), list)
            and tuple(entry["shape"]) == shape
            and isinstance(entry.get("data_offsets"), list)
            and len(entry["data_offsets"]) == 2
            and all(isinstance(o, int) and not isinstance(o, bool) for o in entry["data_offsets"])
        )
        _expect(ok, f"weights in {name} do not match the card's architecture: tensor {key} "
                    f"should be {'/'.join(codes)} of shape {list(shape)}, the file says "
                    f"{_short(entry)}")
        begin, end = entry["data_offsets"]
        size = codes[entry["dtype"]] * math.prod(shape)
        _expect(0 <= begin <= end <= body and end - begin == size,
                f"weights file {name} is not valid safetensors: tensor {key}'s bytes "
                f"{begin}..{end} do not fit its shape or the file")


def _read_safetensors(data: bytes, name: str) -> dict[str, torch.Tensor]:
    """The tensors, with every error of the reader turned into a ``ValueError``."""
    from safetensors.torch import load

    try:
        return load(data)
    except Exception as error:  # the reader's errors (SafetensorError, ...) are not a stable list
        raise ValueError(
            f"weights file {name} is not valid safetensors: {type(error).__name__}: {error}"
        ) from error


def _check_values(state: dict[str, torch.Tensor], name: str) -> None:
    """Every value finite; batch-norm running variances >= 0 (a square root is taken)."""
    for key, tensor in state.items():
        if not tensor.is_floating_point():
            continue
        finite = torch.isfinite(tensor)
        if not bool(finite.all()):
            nan = int(torch.isnan(tensor).sum())
            raise ValueError(
                f"weights in {name} are not finite: tensor {key} has {nan:,} NaN and "
                f"{int((~finite).sum()) - nan:,} infinite values of {tensor.numel():,}"
            )
        if key.endswith("running_var") and bool((tensor < 0).any()):
            raise ValueError(f"weights in {name} are invalid: tensor {key} (a variance) has "
                             "negative values")


def _check_probe(model: UNet, name: str) -> None:
    """The network's output on a fixed smooth input must be finite.

    Finite weights can still overflow (a weight of 1e30 passes every check above); one
    forward pass on the smallest input the network accepts catches that before the page
    shows NaN. It is a probe, not a proof: other inputs can still overflow.
    """
    side = 2 ** (model.depth + 1)
    grid = torch.linspace(-1.0, 1.0, side, dtype=model.head.weight.dtype)
    probe = torch.outer(grid, grid).expand(1, model.in_channels, side, side)
    with torch.no_grad():
        out = model(probe)
    _expect(bool(torch.isfinite(out).all()),
            f"weights in {name} give non-finite output on a probe image (values too large?)")


def check_compatibility(
    card: Mapping[str, Any],
    pattern: str,
    rate: float,
    size: int,
    operator_kind: str,
    mask: np.ndarray | torch.Tensor | None = None,
    *,
    labels: Mapping[str, str] | None = None,
) -> list[str]:
    """Warnings for using a trained network away from its training configuration.

    A trained network has learned the artefacts of one sampling mask at one size; used
    with another it still runs (it is fully convolutional), but its output means little.
    The app shows these warnings next to the image; nothing here raises for a mismatch.

    Parameters
    ----------
    card : mapping
        The model card (from :func:`load_network`).
    pattern : str
        Sampling pattern name in use.
    rate : float
        Sampling rate in use.
    size : int
        Image side N in use.
    operator_kind : str
        ``"fourier"`` or ``"walsh"``.
    mask : array or tensor, shape (N, N), bool, optional
        The mask in use; compared with the training mask by sha256.
    labels : mapping, optional
        What the warnings call a pattern (name -> label); names without one are quoted.

    Returns
    -------
    list of str
        Empty when the setting matches the training setting.
    """
    sampling = card.get("sampling", {})
    trained_pattern = sampling.get("pattern")
    trained_rate = sampling.get("rate")
    trained_size = card.get("image_size")
    trained_kind = card.get("operator")
    depth = card.get("architecture", {}).get("depth", 4)
    warnings: list[str] = []
    if pattern != trained_pattern:
        warnings.append(
            f"The network was trained for {_named(trained_pattern, labels)} sampling, not "
            f"{_named(pattern, labels)}: it has never seen these aliasing artefacts."
        )
    if trained_rate is not None and abs(float(rate) - float(trained_rate)) > 1e-9:
        warnings.append(_rate_warning(float(rate), float(trained_rate)))
    if size != trained_size:
        warnings.append(_size_warning(size, trained_size, depth))
    if operator_kind != trained_kind:
        warnings.append(
            f"The network was trained on '{trained_kind}' measurements, not '{operator_kind}'."
        )
    if mask is not None and not warnings:
        # Same pattern, rate and size but another mask (e.g. another seed or a user mask).
        if mask_sha256(mask) != sampling.get("mask_sha256"):
            warnings.append(
                "The sampling mask differs from the one the network was trained with "
                f"(trained with seed {sampling.get('seed')}); results may degrade."
            )
    return warnings


def _named(value: Any, labels: Mapping[str, str] | None) -> str:
    """What a warning calls a pattern: its label, else the value quoted (a card may hold anything)."""
    found = labels.get(value) if labels and isinstance(value, str) else None
    return found if found is not None else f"'{value}'"


def _rate_warning(rate: float, trained_rate: float) -> str:
    """The warning for a sampling rate other than the training rate."""
    # At most one decimal: a measured rate such as 12.0819% reads as 12.1%.
    return (
        f"The network was trained at sampling rate {round(trained_rate * 100, 1):g}%, not "
        f"{round(rate * 100, 1):g}%."
        + (" More samples can still make its output worse." if rate > trained_rate else "")
    )


def _size_warning(size: int, trained_size: Any, depth: int) -> str:
    """The warning for an image side other than the training side."""
    factor = 2**depth
    if size % factor:
        return (
            f"The network was trained at {trained_size} x {trained_size}; it cannot run "
            f"at {size} x {size} (the side must be divisible by {factor})."
        )
    return (
        f"The network was trained at {trained_size} x {trained_size}, not {size} x {size}: "
        "it runs (it is fully convolutional) but was never trained at this size."
    )
