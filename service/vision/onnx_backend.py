"""Direct ONNX Runtime backend: the same boxes as `UltralyticsDetector` on an Ultralytics ONNX export, less overhead.

Why: `YOLO.predict` adds a fixed cost per frame around the network (predictor and source setup, torch tensors,
torchvision NMS, Results objects): about 3.5 ms here, against about 1 ms for the numpy/OpenCV steps below. The
network itself is the same ONNX Runtime call either way, so the gain is that difference and no more. Measured with
`bench/backend_compare.py --rounds 20` (2 shared CPU cores, default YOLOv3-tiny model, 6 photos, median ms per
frame, Ultralytics -> direct, same thread settings): imgsz 320, 1 thread 30.2 -> 28.8 (1.05x); imgsz 480,
1 thread 63.4 -> 61.7 (1.03x). The 2-thread figures on that shared machine were within its noise.

What is reproduced of Ultralytics 8.4's behaviour (rewritten in numpy, not copied), so the answers match, bit
for bit on the test photos:
LetterBox (grey 114, centred; the minimal stride-multiple "rect" shape when the graph's H/W are dynamic, the
export's fixed size otherwise, where Ultralytics ignores `imgsz` too), BGR->RGB, /255, NCHW float32;
`non_max_suppression` (score > conf, best class per box, class offset of 7680 px, greedy IoU > 0.7 suppression,
max_det 300); `scale_boxes` and clipping. Only detect exports without NMS in the graph are accepted.

`.pt` models (and anything this refuses) keep going through `UltralyticsDetector`.
"""

from __future__ import annotations

import ast
import logging
import math

import cv2
import numpy as np

from service.vision.classmap import ClassMap
from service.vision.detector import by_shape
from service.vision.types import Detections

log = logging.getLogger(__name__)

IOU_THRESHOLD = 0.7  # Ultralytics' predict default (cfg `iou`)
MAX_DET = 300  # Ultralytics' predict default (cfg `max_det`)
MAX_NMS = 30000  # boxes going into NMS at most (Ultralytics' `max_nms`)
MAX_WH = 7680  # per-class box offset for class-aware NMS in one pass (Ultralytics' `max_wh`)
PAD_VALUE = 114


class OnnxModelError(RuntimeError):
    """A model this backend cannot run the way Ultralytics would; the message says what is wrong."""


class OnnxDetector:
    """One ONNX Runtime session. `detect` keeps no state between calls, so it may be called from several threads."""

    def __init__(self, model: str, class_map: ClassMap, imgsz: int = 640, threads: int | None = None) -> None:
        import onnxruntime as ort

        self.model_path = model
        self.class_map = class_map
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0: ONNX Runtime's default (one per physical core)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no core burnt while idle
        try:
            self.session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own pybind classes (InvalidProtobuf, NoSuchFile, Fail)
            raise OnnxModelError(f"{model}: ONNX Runtime cannot load it ({type(exc).__name__}: {exc})") from exc
        meta = self.session.get_modelmeta().custom_metadata_map
        self._names, self.stride = _detect_metadata(model, meta)
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise OnnxModelError(
                f"{model}: {len(inputs)} input(s), {len(outputs)} output(s); an Ultralytics detect export has one each"
            )
        shape = inputs[0].shape
        batch_ok = len(shape) == 4 and (shape[0] == 1 or not isinstance(shape[0], int))  # 1 or symbolic
        if inputs[0].type != "tensor(float)" or not batch_ok or shape[1] != 3:
            raise OnnxModelError(f"{model}: input {inputs[0].type} {shape} is not float32 (1, 3, H, W)")
        self._input = inputs[0].name
        self.batchable = not isinstance(shape[0], int)  # a symbolic batch axis takes several frames at once
        self.dynamic = not (isinstance(shape[2], int) and isinstance(shape[3], int))  # symbolic H/W
        if self.dynamic:
            side = max(math.ceil(imgsz / self.stride) * self.stride, self.stride)  # Ultralytics' check_imgsz
            self.input_shape = (side, side)
        else:
            self.input_shape = (int(shape[2]), int(shape[3]))
            if self.input_shape != (imgsz, imgsz):
                log.warning("%s: fixed input %s, imgsz %s ignored (as Ultralytics does)", model, shape[2:], imgsz)
        self.imgsz = imgsz

    @property
    def class_names(self) -> dict[int, str]:
        return dict(self._names)

    def detect(self, image: np.ndarray) -> Detections:
        blob, padded = self._preprocess(image)
        (output,) = self._run(blob)
        return self._boxes(output, padded, image.shape[:2])

    def detect_batch(self, images: list[np.ndarray]) -> list[Detections]:
        """The same answers as `detect` on each image, with one network call per image size."""
        if not self.batchable:
            return [self.detect(image) for image in images]
        return by_shape(images, self._detect_same_size)

    def _detect_same_size(self, images: list[np.ndarray]) -> list[Detections]:
        prepared = [self._preprocess(image) for image in images]
        outputs = self._run(np.concatenate([blob for blob, _ in prepared]))
        return [
            self._boxes(output, padded, image.shape[:2])
            for output, (_, padded), image in zip(outputs, prepared, images, strict=True)
        ]

    def _run(self, blob: np.ndarray) -> np.ndarray:
        """The network on (n, 3, H, W): (n, 4 + classes, boxes), checked."""
        (output,) = self.session.run(None, {self._input: blob})
        if output.ndim != 3 or output.shape[0] != len(blob) or output.shape[1] != 4 + len(self._names):
            raise OnnxModelError(
                f"{self.model_path}: output shape {output.shape}, expected ({len(blob)}, {4 + len(self._names)}, "
                f"N) for {len(self._names)} classes"
            )
        return output

    def _boxes(self, output: np.ndarray, padded: tuple[int, int], original: tuple[int, ...]) -> Detections:
        """One image's (4 + classes, boxes) output: NMS, boxes back in the image's pixels, the site's classes."""
        xyxy, scores, class_ids = _nms(output, self.class_map.min_threshold)
        if not len(scores):
            return Detections.empty()
        xyxy = _scale_boxes(xyxy, padded, original)
        return self.class_map.apply(xyxy, scores, [self._names[int(i)] for i in class_ids])

    def _preprocess(self, image: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        """Ultralytics' LetterBox, then BGR->RGB, /255, (1, 3, H, W) float32."""
        height, width = image.shape[:2]
        target_h, target_w = self.input_shape
        r = min(target_h / height, target_w / width)
        new_w, new_h = max(round(width * r), 1), max(round(height * r), 1)
        dw, dh = target_w - new_w, target_h - new_h
        if self.dynamic:  # "rect": pad only up to the next stride multiple
            dw, dh = dw % self.stride, dh % self.stride
        top, bottom = round(dh / 2 - 0.1), round(dh / 2 + 0.1)
        left, right = round(dw / 2 - 0.1), round(dw / 2 + 0.1)
        if (width, height) != (new_w, new_h):
            image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        image = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
        blob = image[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32, order="C")
        blob /= np.float32(255)
        return blob, (int(image.shape[0]), int(image.shape[1]))


def _detect_metadata(model: str, meta: dict[str, str]) -> tuple[dict[int, str], int]:
    """Class names and stride from the metadata Ultralytics' exporter writes; refuse what it would not run as detect."""
    if "names" not in meta or "stride" not in meta:
        raise OnnxModelError(f"{model}: no Ultralytics metadata ('names', 'stride'); not an Ultralytics export")
    if meta.get("task", "detect") != "detect":
        raise OnnxModelError(f"{model}: task {meta['task']!r}, only 'detect' exports are supported")
    try:
        names = ast.literal_eval(meta["names"])
        args = ast.literal_eval(meta.get("args", "{}"))
        end2end = ast.literal_eval(meta.get("end2end", "False"))
        stride = int(meta["stride"])
    except (ValueError, SyntaxError) as exc:
        raise OnnxModelError(f"{model}: unreadable Ultralytics metadata ({exc})") from None
    if not isinstance(names, dict) or not names or not all(isinstance(k, int) for k in names):
        raise OnnxModelError(f"{model}: metadata 'names' is not a {{index: name}} dict")
    if end2end or (isinstance(args, dict) and args.get("nms")):
        raise OnnxModelError(f"{model}: NMS is inside the graph (end2end/nms export); export with nms=False")
    if sorted(names) != list(range(len(names))):
        raise OnnxModelError(f"{model}: metadata 'names' indices are not 0..{len(names) - 1}")
    return {int(k): str(v) for k, v in names.items()}, stride


def _nms(prediction: np.ndarray, conf: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ultralytics' non_max_suppression for one (4 + nc, N) output: xyxy, score, class of the kept boxes."""
    candidates = prediction[4:].max(axis=0) > conf
    x = prediction[:, candidates].T  # (n, 4 + nc)
    scores_all = x[:, 4:]
    class_ids = scores_all.argmax(axis=1)
    scores = scores_all[np.arange(len(x)), class_ids]
    half_wh = x[:, 2:4] / np.float32(2)
    xyxy = np.concatenate([x[:, :2] - half_wh, x[:, :2] + half_wh], axis=1)
    if len(scores) > MAX_NMS:
        top = np.argsort(-scores, kind="stable")[:MAX_NMS]
        xyxy, scores, class_ids = xyxy[top], scores[top], class_ids[top]
    keep = _greedy_nms(xyxy + (class_ids[:, None] * MAX_WH).astype(np.float32), scores)
    return xyxy[keep], scores[keep], class_ids[keep]


def _greedy_nms(boxes: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """torchvision.ops.nms semantics: by descending score, drop every later box with IoU > threshold."""
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    keep: list[int] = []
    with np.errstate(invalid="ignore", divide="ignore"):
        while order.size and len(keep) < MAX_DET:
            i, rest = order[0], order[1:]
            keep.append(int(i))
            w = np.maximum(np.float32(0), np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
            h = np.maximum(np.float32(0), np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
            inter = w * h
            iou = inter / (areas[i] + areas[rest] - inter)
            order = rest[~(iou > IOU_THRESHOLD)]  # NaN (two empty boxes) is kept, as in torchvision
    return np.asarray(keep, dtype=np.int64)


def _scale_boxes(xyxy: np.ndarray, padded: tuple[int, int], original: tuple[int, ...]) -> np.ndarray:
    """Ultralytics' scale_boxes (gain and padding recomputed from the two shapes) and clip_boxes."""
    gain = min(padded[0] / original[0], padded[1] / original[1])
    new_h, new_w = (max(round(side * gain), 1) for side in original[:2])
    pad_x, pad_y = round((padded[1] - new_w) / 2 - 0.1), round((padded[0] - new_h) / 2 - 0.1)
    boxes = xyxy.astype(np.float32, copy=True)
    boxes[:, [0, 2]] = (boxes[:, [0, 2]] - np.float32(pad_x)) / np.float32(new_w / original[1])
    boxes[:, [1, 3]] = (boxes[:, [1, 3]] - np.float32(pad_y)) / np.float32(new_h / original[0])
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, original[1])
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, original[0])
    return boxes
