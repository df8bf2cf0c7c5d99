"""The direct ONNX Runtime backend gives Ultralytics' answers: same detections, same classes, boxes within 1 px,
confidences within 1e-3, on real photos at the sizes the service uses; and a clear error for a model it cannot run.

Offline by construction (tests/conftest.py sets YOLO_OFFLINE=1 and a temporary YOLO_CONFIG_DIR before Ultralytics
is imported); the model is the offline default from the `default_model_path` fixture.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
import skimage
import ultralytics
from onnx import TensorProto, helper

from service.vision.classmap import DEFAULT_CLASSMAP, ClassMap
from service.vision.detector import UltralyticsDetector
from service.vision.onnx_backend import OnnxDetector, OnnxModelError
from service.vision.types import CATEGORIES, Detections

ULTRALYTICS_ASSETS = Path(ultralytics.__file__).parent / "assets"
SKIMAGE_DATA = Path(skimage.__file__).parent / "data"
PHOTOS = {
    "bus": ULTRALYTICS_ASSETS / "bus.jpg",
    "zidane": ULTRALYTICS_ASSETS / "zidane.jpg",
    "motorcycle": SKIMAGE_DATA / "motorcycle_left.png",
    "astronaut": SKIMAGE_DATA / "astronaut.png",
    "coffee": SKIMAGE_DATA / "coffee.png",
    "chelsea": SKIMAGE_DATA / "chelsea.png",
}
BOX_TOLERANCE = 1.0  # pixels of the original image
CONFIDENCE_TOLERANCE = 1e-3
SIZES = (320, 480)

Pair = tuple[UltralyticsDetector, OnnxDetector]


def photo(name: str) -> np.ndarray:
    image = cv2.imread(str(PHOTOS[name]), cv2.IMREAD_COLOR)
    assert image is not None, PHOTOS[name]
    return image


def everything_map(names: dict[int, str], threshold: float = 0.05) -> ClassMap:
    """Every model class kept, at a low threshold: many boxes near one another, so NMS has real work to do."""
    return ClassMap.from_dict(
        {"categories": {"clutter": list(names.values())}, "thresholds": dict.fromkeys(CATEGORIES, threshold)}
    )


@pytest.fixture(scope="module")
def detectors(default_model_path: Path) -> Callable[[int, str], Pair]:
    """(Ultralytics, direct) for an imgsz and a class map ("coco": the shipped one, "all": every class), built once."""
    cache: dict[tuple[int, str], Pair] = {}

    def get(imgsz: int, which: str) -> Pair:
        if (imgsz, which) not in cache:
            model = str(default_model_path)
            direct = OnnxDetector(model, ClassMap.load(DEFAULT_CLASSMAP), imgsz=imgsz, threads=1)
            class_map = ClassMap.load(DEFAULT_CLASSMAP) if which == "coco" else everything_map(direct.class_names)
            cache[imgsz, which] = (
                UltralyticsDetector(model, class_map, imgsz=imgsz),
                OnnxDetector(model, class_map, imgsz=imgsz, threads=1),
            )
        return cache[imgsz, which]

    return get


def iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return float(w * h / union) if union > 0 else 0.0


def assert_same(reference: Detections, direct: Detections, label: str) -> tuple[float, float]:
    """Match each reference row to the unmatched direct row of its class with the highest IoU; return the worst
    box and confidence differences."""
    assert len(direct) == len(reference), (label, list(reference.class_name), list(direct.class_name))
    assert sorted(direct.class_name) == sorted(reference.class_name), label
    unmatched = set(range(len(direct)))
    worst_box = worst_conf = 0.0
    for i in range(len(reference)):
        candidates = [j for j in unmatched if direct.class_name[j] == reference.class_name[i]]
        j = max(candidates, key=lambda k: iou(reference.xyxy[i], direct.xyxy[k]))
        unmatched.remove(j)
        assert direct.category[j] == reference.category[i], label
        box = float(np.abs(direct.xyxy[j] - reference.xyxy[i]).max())
        conf = abs(float(direct.confidence[j]) - float(reference.confidence[i]))
        assert box <= BOX_TOLERANCE, (label, reference.class_name[i], reference.xyxy[i], direct.xyxy[j])
        assert conf <= CONFIDENCE_TOLERANCE, (label, reference.class_name[i], reference.confidence[i])
        worst_box, worst_conf = max(worst_box, box), max(worst_conf, conf)
    return worst_box, worst_conf


@pytest.mark.model
@pytest.mark.parametrize("which", ["coco", "all"])
@pytest.mark.parametrize("imgsz", SIZES)
@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_same_answers_as_ultralytics_on_real_photos(
    detectors: Callable[[int, str], Pair], name: str, imgsz: int, which: str
) -> None:
    ultralytics_detector, direct = detectors(imgsz, which)
    image = photo(name)
    reference = ultralytics_detector.detect(image)
    if which == "all":
        assert len(reference) >= 1, "a photo with nothing found proves little about matching"
    assert_same(reference, direct.detect(image), f"{name}@{imgsz}/{which}")


@pytest.mark.model
@pytest.mark.parametrize("imgsz", SIZES)
@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920), (641, 359)])
def test_same_answers_on_resized_non_square_frames(
    detectors: Callable[[int, str], Pair], imgsz: int, size: tuple[int, int]
) -> None:
    """Camera-shaped frames (landscape 16:9, portrait, and an odd size for the letterbox's rounding)."""
    image = cv2.resize(photo("bus"), size, interpolation=cv2.INTER_AREA)
    for which in ("coco", "all"):
        ultralytics_detector, direct = detectors(imgsz, which)
        reference = ultralytics_detector.detect(image)
        assert len(reference), (size, imgsz, which)
        found = direct.detect(image)
        assert_same(reference, found, f"bus {size}@{imgsz}/{which}")
        assert (found.xyxy[:, [0, 2]] <= size[0]).all() and (found.xyxy[:, [1, 3]] <= size[1]).all()
        assert (found.xyxy >= 0).all()


@pytest.mark.model
@pytest.mark.parametrize("imgsz", SIZES)
def test_a_uniform_grey_frame_gives_empty_detections(detectors: Callable[[int, str], Pair], imgsz: int) -> None:
    grey = np.full((720, 1280, 3), 128, np.uint8)
    ultralytics_detector, direct = detectors(imgsz, "coco")
    found = direct.detect(grey)
    assert isinstance(found, Detections) and len(found) == 0 and found.xyxy.shape == (0, 4)
    assert len(ultralytics_detector.detect(grey)) == 0


@pytest.mark.model
def test_class_names_are_the_models_own(detectors: Callable[[int, str], Pair]) -> None:
    ultralytics_detector, direct = detectors(480, "coco")
    assert direct.class_names == ultralytics_detector.class_names
    assert len(direct.class_names) == 80 and direct.class_names[0] == "person" and direct.class_names[5] == "bus"


@pytest.mark.model
def test_fixed_size_export_runs_at_its_own_size_as_ultralytics_does(default_model_path: Path, tmp_path: Path) -> None:
    """A static 320x320 export: Ultralytics ignores imgsz for it (full square letterbox), so must we."""
    model = onnx.load(str(default_model_path))
    for value, dims in ((model.graph.input[0], (1, 3, 320, 320)), (model.graph.output[0], (1, 84, 3 * (100 + 400)))):
        for dim, size in zip(value.type.tensor_type.shape.dim, dims, strict=True):
            dim.ClearField("dim_param")
            dim.dim_value = size
    imgsz = next(p for p in model.metadata_props if p.key == "imgsz")
    imgsz.value = "[320, 320]"  # what Ultralytics' exporter writes for a static 320 export (it letterboxes to this)
    static = tmp_path / "static-320.onnx"
    onnx.save(model, str(static))
    class_map = everything_map(OnnxDetector(str(default_model_path), ClassMap.load()).class_names)
    direct = OnnxDetector(str(static), class_map, imgsz=480)
    assert not direct.dynamic and direct.input_shape == (320, 320)
    image = cv2.resize(photo("zidane"), (1920, 1080))
    assert_same(UltralyticsDetector(str(static), class_map, imgsz=480).detect(image), direct.detect(image), "static")


def tiny_model(path: Path, metadata: dict[str, str], channels_out: int = 3) -> Path:
    """A one-node ONNX graph (1, 3, H, W) -> (1, channels_out, N), with the given metadata."""
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, "height", "width"])
    y = helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, channels_out, "anchors"])
    shape = helper.make_tensor("shape", TensorProto.INT64, [3], [1, channels_out, -1])
    graph = helper.make_graph([helper.make_node("Reshape", ["images", "shape"], ["output0"])], "g", [x], [y], [shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))
    return path


DETECT_METADATA = {"stride": "32", "task": "detect", "names": "{0: 'person', 1: 'car'}"}


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({}, "not an Ultralytics export"),
        ({**DETECT_METADATA, "task": "segment"}, "only 'detect' exports"),
        ({**DETECT_METADATA, "end2end": "True"}, "NMS is inside the graph"),
        ({**DETECT_METADATA, "args": "{'nms': True}"}, "NMS is inside the graph"),
        ({**DETECT_METADATA, "names": "['person', 'car']"}, "not a {index: name} dict"),
    ],
)
def test_a_model_that_is_not_an_ultralytics_detect_export_is_refused(
    tmp_path: Path, metadata: dict[str, str], message: str
) -> None:
    path = tiny_model(tmp_path / "tiny.onnx", metadata)
    with pytest.raises(OnnxModelError, match=message) as raised:
        OnnxDetector(str(path), ClassMap.load())
    assert str(path) in str(raised.value)


def test_an_output_that_is_not_boxes_and_class_scores_is_refused_on_first_use(tmp_path: Path) -> None:
    path = tiny_model(tmp_path / "tiny.onnx", DETECT_METADATA, channels_out=3)  # 2 classes need 6 channels
    detector = OnnxDetector(str(path), ClassMap.load(), imgsz=64)
    with pytest.raises(OnnxModelError, match=r"expected \(1, 6, N\) for 2 classes"):
        detector.detect(np.zeros((64, 64, 3), np.uint8))


def test_a_file_that_is_not_onnx_gives_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 64, dtype=np.uint8).tobytes())
    with pytest.raises(OnnxModelError, match="ONNX Runtime cannot load it") as raised:
        OnnxDetector(str(bad), ClassMap.load())
    assert isinstance(raised.value, RuntimeError) and str(bad) in str(raised.value)
    with pytest.raises(OnnxModelError, match="cannot load"):
        OnnxDetector(str(tmp_path / "missing.onnx"), ClassMap.load())
