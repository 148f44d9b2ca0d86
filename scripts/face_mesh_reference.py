"""Reference Face Mesh landmarks from the `mediapipe` Python package.

For every portrait in ../shared/testdata/portraits this runs MediaPipe's own
Face Mesh (mediapipe.solutions.face_mesh, static image mode: BlazeFace short
range, then face_landmark.tflite on the detection's rotated square, 468
points, no iris refinement) and writes every face's landmarks in the image's
pixels (x, y; z in the same pixel scale as x), and the BlazeFace
detections Face Mesh starts from (box and six keypoints), to
tests/data/portraits/face_mesh_reference.json. The Rust runner
(src/photo/mesh.rs) is tested against this file (tests/photo.rs).

Needs: pip install mediapipe==0.10.14 (the wheel the models come from).
usage: python scripts/face_mesh_reference.py ../shared/testdata/portraits tests/data/portraits/face_mesh_reference.json
"""
import json
import os
import sys

import mediapipe as mp
import numpy as np
from PIL import Image



def run(mesh, img, x0, y0):
    """Every face's 468 points in `img`, moved by (x0, y0)."""
    h, w = img.shape[:2]
    result = mesh.process(np.ascontiguousarray(img))
    return [[[round(p.x * w + x0, 2), round(p.y * h + y0, 2), round(p.z * w, 2)] for p in lms.landmark]
            for lms in result.multi_face_landmarks or []]


def detect(detector, img, x0, y0):
    """Every BlazeFace detection in `img` (the one Face Mesh starts from):
    box [x, y, w, h] and the six keypoints, in pixels moved by (x0, y0)."""
    h, w = img.shape[:2]
    result = detector.process(np.ascontiguousarray(img))
    out = []
    for d in result.detections or []:
        b = d.location_data.relative_bounding_box
        out.append({"box": [round(b.xmin * w + x0, 2), round(b.ymin * h + y0, 2), round(b.width * w, 2),
                            round(b.height * h, 2)],
                    "keypoints": [[round(k.x * w + x0, 2), round(k.y * h + y0, 2)]
                                  for k in d.location_data.relative_keypoints]})
    return out


src, dst = sys.argv[1], sys.argv[2]
out = {"source": f"mediapipe {mp.__version__} solutions.face_mesh, static_image_mode, refine_landmarks=False",
       "portraits": {}}
with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=4, refine_landmarks=False,
                                     min_detection_confidence=0.5) as mesh, \
        mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5) as detector:
    for name in sorted(os.listdir(src)):
        if not name.lower().endswith((".jpg", ".jpeg", ".png")):
            continue
        img = np.asarray(Image.open(os.path.join(src, name)).convert("RGB"))
        h, w = img.shape[:2]
        faces = run(mesh, img, 0, 0)
        detections = detect(detector, img, 0, 0)
        if not faces:
            # Faces too small for the short-range detector on the whole
            # frame (obama_and_biden.jpg): square tiles of half the short
            # side, overlapping by half (the last flush with the far edge),
            # the same face kept once. gradcap looks the same way.
            side = min(w, h) // 2

            def offsets(n):
                """Tile starts every half tile, the last flush with the far edge."""
                starts = list(range(0, max(n - side, 0) + 1, side // 2))
                return starts if starts[-1] == max(n - side, 0) else starts + [max(n - side, 0)]

            for y0 in offsets(h):
                for x0 in offsets(w):
                    tile = img[y0:y0 + side, x0:x0 + side]
                    for face in run(mesh, tile, x0, y0):
                        nose = np.array(face[1][:2])
                        if all(np.linalg.norm(nose - np.array(f[1][:2])) > 20 for f in faces):
                            faces.append(face)
                            # The detection this face's mesh started from (same tile).
                            near = [d for d in detect(detector, tile, x0, y0)
                                    if np.linalg.norm(nose - np.array(d["keypoints"][2])) < d["box"][2] / 2]
                            detections.extend(near[:1])
        out["portraits"][name] = {"size": [w, h], "faces": faces, "detections": detections}
        print(f"{name}: {len(faces)} face(s)")
with open(dst, "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
