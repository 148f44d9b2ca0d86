#!/usr/bin/env python3
"""Generate webcam-like "field" frames of a phone screen showing a QR code.

What it models
--------------
Each frame is a webcam photo of a person holding a phone up to the camera,
the phone showing a QR code. Every condition is drawn at random per frame
(nothing is fixed or centred) and recorded in a sidecar ``NAME.json``; the
code's text goes to ``NAME.txt`` and the frame to ``NAME.jpg``:

* camera: 1280x720 or 1920x1080, JPEG quality 80 (Pillow, 4:2:0);
* payload: a Base64 string of 280-320 characters (random bytes), error
  correction M, byte mode, so version 12-13 (recorded);
* size: the code's side (symbol without quiet zone, full-length edge) is
  28-55 % of the frame height; position uniform over every place where the
  code and its quiet zone lie fully inside the frame;
* pose: in-plane rotation uniform in +-35 deg; perspective as a real
  homography: one edge (top, bottom, left or right, at random) up to 25 %
  shorter than the opposite one, plus a foreshortening of the perpendicular
  direction of at most the same amount (a tilted phone is also squashed);
* phone: a dark body/bezel with rounded corners around a lit screen; the
  screen's white is 255 x brightness (45-100 %) with a slight tint, its black
  is not black (reflections, 8-35); the code sits on the screen with a quiet
  zone of ~4 modules (the screen's edge may come no closer), an app header
  above and text lines/button below, as a ticket app would show it;
* glare: on 40 % of frames, a soft bright band at a random angle across the
  phone glass, bright enough to saturate in its middle on most of them;
* optics and sensor: white-balance gains, Gaussian lens blur sigma 0.3-1.6 px,
  vignetting (0-35 % at the corners) on 60 % of frames, Gaussian sensor noise
  sigma 2-9 (of 0..255) per channel, clipping to 0..255;
* room: gradients, a lamp/window glow, and dark, light and mid-grey
  rectangles, ellipses and lines of random sizes, the far ones out of focus,
  sometimes a person (skin and hair blobs) behind the phone.

``--no-code K`` adds K frames with the same scene but no code: half show the
phone with an app screen without a code, half show only the room. Their
``NAME.txt`` is empty.

Frames are rendered on a 2x supersampled canvas (the phone texture is warped
there with bilinear interpolation) and reduced with area averaging, so that
modules are integrated over pixels as a sensor would.

Each frame has its own random stream, seeded from (--seed, kind, index): frame
N of a seed is the same whatever --count is, on the same library versions.

Usage
-----
    python3 scripts/field_frames.py --seed 1 --count 40 --no-code 5 --out /tmp/field-seed1

Written against (pip install --user numpy pillow opencv-python-headless segno):
Python 3.11.7, numpy 2.4.6, Pillow 13.0.0, opencv-python-headless 5.1.0.95
(cv2 5.1.0), segno 1.6.6.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np
import segno
from PIL import Image

SUPERSAMPLE = 2
QUIET_ZONE = 4  # modules
JPEG_QUALITY = 80
RESOLUTIONS = [(1280, 720), (1920, 1080)]


# ---------------------------------------------------------------- helpers


def rounded_rect(img, x0, y0, x1, y1, r, color):
    """Filled, anti-aliased rounded rectangle (pixel coordinates, inclusive-ish)."""
    x0, y0, x1, y1 = (int(round(v)) for v in (x0, y0, x1, y1))
    r = int(max(0, min(r, (x1 - x0) / 2, (y1 - y0) / 2)))
    color = tuple(float(c) for c in color)
    if r == 0:
        cv2.rectangle(img, (x0, y0), (x1, y1), color, -1)
        return
    cv2.rectangle(img, (x0 + r, y0), (x1 - r, y1), color, -1)
    cv2.rectangle(img, (x0, y0 + r), (x1, y1 - r), color, -1)
    for cx, cy in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x0 + r, y1 - r), (x1 - r, y1 - r)):
        cv2.circle(img, (cx, cy), r, color, -1, cv2.LINE_AA)


def translate(tx, ty):
    return np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]], dtype=np.float64)


def scale(sx, sy=None):
    return np.diag([sx, sx if sy is None else sy, 1.0])


def rotate(deg):
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=np.float64)


def apply_h(h, pts):
    pts = np.asarray(pts, dtype=np.float64)
    p = np.c_[pts, np.ones(len(pts))] @ h.T
    return p[:, :2] / p[:, 2:3]


def keystone(edge, shortening, foreshortening):
    """Homography of the unit square onto a trapezoid: `edge` shorter by
    `shortening` (about its midpoint) and the perpendicular extent scaled by
    1 - `foreshortening`, centred on the origin."""
    k, f = shortening, 1.0 - foreshortening
    src = np.float32([[0, 0], [1, 0], [1, 1], [0, 1]])
    if edge == "top":
        dst = [[k / 2, 0], [1 - k / 2, 0], [1, f], [0, f]]
    elif edge == "bottom":
        dst = [[0, 0], [1, 0], [1 - k / 2, f], [k / 2, f]]
    elif edge == "left":
        dst = [[0, k / 2], [f, 0], [f, 1], [0, 1 - k / 2]]
    else:  # right
        dst = [[0, 0], [f, k / 2], [f, 1 - k / 2], [0, 1]]
    dst = np.float32(dst)
    dst -= dst.mean(axis=0)
    return cv2.getPerspectiveTransform(src, dst).astype(np.float64)


# ---------------------------------------------------------------- the room


def random_color(rng, tone):
    """An RGB colour that is dark, light or mid, with mild saturation."""
    lo, hi = {"dark": (0, 70), "light": (170, 255), "mid": (70, 170)}[tone]
    base = rng.uniform(lo, hi)
    tint = rng.normal(0, 18, 3)
    return np.clip(base + tint, 0, 255)


def room(rng, w, h):
    """A cluttered room: gradients, a glow, shapes, lines; float32 RGB."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    c0, c1 = random_color(rng, "mid"), random_color(rng, rng.choice(["light", "mid", "dark"]))
    a = rng.uniform(0, 2 * math.pi)
    t = (xx * math.cos(a) + yy * math.sin(a)) / max(w, h)
    t = (t - t.min()) / max(1e-6, t.max() - t.min())
    img = c0[None, None, :] * (1 - t[..., None]) + c1[None, None, :] * t[..., None]
    # A lamp or window glow.
    gx, gy = rng.uniform(-0.2, 1.2) * w, rng.uniform(-0.2, 1.0) * h
    gr = rng.uniform(0.2, 0.8) * h
    glow = np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * gr * gr))
    img += glow[..., None] * rng.uniform(-40, 90)
    img = np.ascontiguousarray(img, dtype=np.float32)

    def shapes(layer, n):
        for _ in range(n):
            tone = rng.choice(["dark", "light", "mid"], p=[0.4, 0.35, 0.25])
            col = tuple(float(c) for c in random_color(rng, tone))
            size = h * math.exp(rng.uniform(math.log(0.015), math.log(0.6)))
            cx, cy = rng.uniform(-0.1, 1.1) * w, rng.uniform(-0.1, 1.1) * h
            kind = rng.choice(["rect", "ellipse", "line", "books"], p=[0.4, 0.25, 0.25, 0.1])
            if kind == "rect":
                aspect = math.exp(rng.uniform(-1.5, 1.5))
                box = ((cx, cy), (size * aspect, size), rng.choice([0, 0, rng.uniform(-20, 20)]))
                cv2.fillPoly(layer, [np.int32(cv2.boxPoints(box))], col, cv2.LINE_AA)
            elif kind == "ellipse":
                axes = (int(size / 2), int(size / 2 * math.exp(rng.uniform(-1, 1))))
                cv2.ellipse(layer, (int(cx), int(cy)), axes, rng.uniform(0, 180), 0, 360, col, -1, cv2.LINE_AA)
            elif kind == "line":
                a = rng.uniform(0, math.pi)
                dx, dy = math.cos(a) * size * 1.5, math.sin(a) * size * 1.5
                thick = int(rng.integers(1, 14))
                cv2.line(layer, (int(cx - dx), int(cy - dy)), (int(cx + dx), int(cy + dy)), col, thick, cv2.LINE_AA)
            else:  # a shelf of books: a row of narrow rectangles
                x = cx
                bh = size * rng.uniform(0.3, 0.8)
                for _ in range(int(rng.integers(5, 20))):
                    bw = bh * rng.uniform(0.08, 0.25)
                    bc = tuple(float(c) for c in random_color(rng, rng.choice(["dark", "light", "mid"])))
                    top = cy - bh * rng.uniform(0.8, 1.0)
                    cv2.rectangle(layer, (int(x), int(top)), (int(x + bw), int(cy)), bc, -1)
                    x += bw * rng.uniform(1.0, 1.3)

    # Far clutter, out of focus; then near clutter, sharper.
    shapes(img, int(rng.integers(10, 30)))
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(1.5, 6.0))
    near = img.copy()
    shapes(near, int(rng.integers(5, 20)))
    person = rng.random() < 0.5
    if person:  # someone behind the phone: a face/arm blob and hair
        skin = np.array([rng.uniform(150, 235), rng.uniform(110, 180), rng.uniform(85, 150)])
        px, py, pr = rng.uniform(0.2, 0.8) * w, rng.uniform(0.3, 0.9) * h, rng.uniform(0.2, 0.45) * h
        cv2.ellipse(near, (int(px), int(py + pr * 1.6)), (int(pr * 1.6), int(pr * 0.9)), 0, 0, 360,
                    tuple(float(c) for c in random_color(rng, "dark")), -1, cv2.LINE_AA)
        cv2.ellipse(near, (int(px), int(py - pr * 0.15)), (int(pr * 0.85), int(pr * 1.05)), 0, 0, 360,
                    tuple(float(c) for c in rng.uniform(10, 60, 3)), -1, cv2.LINE_AA)
        cv2.ellipse(near, (int(px), int(py)), (int(pr * 0.75), int(pr)), 0, 0, 360,
                    tuple(float(c) for c in skin), -1, cv2.LINE_AA)
    near = cv2.GaussianBlur(near, (0, 0), rng.uniform(0.6, 2.5))
    return near, {"person": bool(person)}


# ---------------------------------------------------------------- the phone


def phone_texture(rng, n_modules, m, matrix, brightness):
    """The phone as an RGBA uint8 texture, `m` texture pixels per module.

    Returns (texture, code_origin_px, code_side_px, details). With `matrix`
    None the screen shows an app page without a code.
    """
    q = QUIET_ZONE
    code_w = n_modules + 2 * q  # with quiet zone, in modules
    screen_w = code_w * rng.uniform(1.0, 1.18)
    screen_h = screen_w * rng.uniform(1.75, 2.15)
    bezel_side = screen_w * rng.uniform(0.025, 0.07)
    bezel_top = screen_w * rng.uniform(0.06, 0.16)
    bezel_bot = screen_w * rng.uniform(0.06, 0.16)
    phone_w, phone_h = screen_w + 2 * bezel_side, screen_h + bezel_top + bezel_bot

    tw, th = int(math.ceil(phone_w * m)), int(math.ceil(phone_h * m))
    rgb = np.zeros((th, tw, 3), np.uint8)
    alpha = np.zeros((th, tw), np.uint8)
    body = np.clip(rng.uniform(12, 55) + rng.normal(0, 6, 3), 0, 255)
    corner = phone_w * rng.uniform(0.08, 0.16) * m
    rounded_rect(rgb, 0, 0, tw - 1, th - 1, corner, body)
    rounded_rect(alpha, 0, 0, tw - 1, th - 1, corner, (255,))

    tint = 1.0 + rng.normal(0, 0.03, 3)
    tint[2] += abs(rng.normal(0, 0.03))  # screens lean blue
    white = np.clip(255.0 * brightness * tint, 0, 255)
    black = rng.uniform(8, 35) + rng.normal(0, 2, 3)
    sx0, sy0 = bezel_side * m, bezel_top * m
    sx1, sy1 = sx0 + screen_w * m, sy0 + screen_h * m
    rounded_rect(rgb, sx0, sy0, sx1, sy1, corner * 0.6, white)

    def level(v):  # a screen colour v in 0..1 between the screen's black and white
        return tuple(float(c) for c in black + (white - black) * np.asarray(v))

    accent = rng.uniform(0.15, 0.9, 3)
    header_h = screen_h * rng.uniform(0.05, 0.09)
    rounded_rect(rgb, sx0, sy0, sx1, sy0 + header_h * m, corner * 0.6, level(accent))
    cv2.rectangle(rgb, (int(sx0 + 2 * m), int(sy0 + header_h * 0.35 * m)),
                  (int(sx0 + screen_w * rng.uniform(0.3, 0.6) * m), int(sy0 + header_h * 0.65 * m)),
                  level([0.95] * 3), -1)

    details = {"screen_white": [round(float(v), 1) for v in white],
               "screen_black": [round(float(v), 1) for v in black],
               "body_gray": round(float(body.mean()), 1),
               "screen_w_modules": round(screen_w, 1), "screen_h_modules": round(screen_h, 1)}

    # Where the code (with quiet zone) goes: centred across, upper half down.
    top_min = header_h + 1.0
    top_max = screen_h - code_w - screen_h * 0.12
    qz_top = rng.uniform(top_min, max(top_min, min(top_max, screen_h * 0.35)))
    qz_left = (screen_w - code_w) / 2
    cu = int(round(sx0 + (qz_left + q) * m))
    cv = int(round(sy0 + (qz_top + q) * m))
    code_side = n_modules * m
    below = qz_top + code_w + 1.0
    if matrix is None:
        below = header_h + 2.0
    else:
        # the code: dark modules at the screen's black level on its white
        mask = np.kron(matrix.astype(np.uint8), np.ones((m, m), np.uint8)).astype(bool)
        region = rgb[cv:cv + code_side, cu:cu + code_side]
        region[mask] = np.round(black).astype(np.uint8)
    # text lines and a button below (or, without a code, filling the page)
    y = below
    while y < screen_h - 4:
        if rng.random() < 0.2:
            bw = screen_w * rng.uniform(0.4, 0.8)
            x0 = (screen_w - bw) / 2
            rounded_rect(rgb, sx0 + x0 * m, sy0 + y * m, sx0 + (x0 + bw) * m, sy0 + (y + 4) * m, 1.5 * m,
                         level(accent))
            y += 6
        else:
            lw = screen_w * rng.uniform(0.3, 0.85)
            lh = rng.uniform(1.2, 2.5)
            cv2.rectangle(rgb, (int(sx0 + 3 * m), int(sy0 + y * m)), (int(sx0 + (3 + lw) * m), int(sy0 + (y + lh) * m)),
                          level([rng.uniform(0.2, 0.6)] * 3), -1)
            y += lh + rng.uniform(1.0, 3.0)

    # premultiply, so that warping and area averaging keep edges right
    rgba = np.dstack([(rgb.astype(np.uint16) * alpha[..., None] // 255).astype(np.uint8), alpha])
    screen_quad = [(sx0, sy0), (sx1, sy0), (sx1, sy1), (sx0, sy1)]
    return rgba, (cu, cv), code_side, screen_quad, details


# ---------------------------------------------------------------- one frame


def make_frame(rng, with_code=True, centred=False):
    """Renders one frame; returns (uint8 RGB image, expected text, record)."""
    width, height = RESOLUTIONS[int(rng.integers(len(RESOLUTIONS)))]
    rec = {"width": width, "height": height, "has_code": bool(with_code)}
    show_phone = with_code or rng.random() < 0.5
    rec["phone"] = bool(show_phone)

    text, matrix, n_modules = "", None, 69
    if with_code:
        text = base64.b64encode(rng.bytes(int(rng.integers(208, 241)))).decode("ascii")  # 280-320 chars
        qr = segno.make_qr(text, error="m", boost_error=False, mode="byte")
        matrix = np.array([[bool(v) for v in row] for row in qr.matrix])
        n_modules = matrix.shape[0]
        rec.update(payload_chars=len(text), qr_version=int(qr.version), qr_error="M", qr_modules=n_modules,
                   qr_mask=int(qr.mask))

    side_frac = rng.uniform(0.28, 0.55)
    rotation = rng.uniform(-35.0, 35.0)
    edge = str(rng.choice(["top", "bottom", "left", "right"]))
    shortening = rng.uniform(0.0, 0.25)
    foreshortening = shortening * rng.uniform(0.0, 1.0)
    brightness = rng.uniform(0.45, 1.0)
    glare = rng.random() < 0.4
    blur = rng.uniform(0.3, 1.6)
    noise = rng.uniform(2.0, 9.0)
    vignette = rng.uniform(0.0, 0.35) if rng.random() < 0.6 else 0.0
    wb = np.clip(1.0 + rng.normal(0, 0.05, 3), 0.85, 1.15)
    side_px = side_frac * height
    rec.update(code_side_frac=round(side_frac, 4), code_side_px=round(side_px, 1),
               module_px=round(side_px / n_modules, 2), rotation_deg=round(rotation, 2),
               perspective_edge=edge, perspective_shortening=round(shortening, 4),
               perspective_foreshortening=round(foreshortening, 4), brightness=round(brightness, 4),
               glare=bool(glare), blur_sigma=round(blur, 3), noise_sigma=round(noise, 3),
               vignette=round(vignette, 3), white_balance=[round(float(g), 3) for g in wb],
               jpeg_quality=JPEG_QUALITY)

    img, room_rec = room(rng, width, height)
    rec["room"] = room_rec

    if show_phone:
        ss = SUPERSAMPLE
        m = max(2, int(math.ceil(ss * side_px / n_modules * 1.15)))
        tex, (cu, cv), code_side, screen_quad, phone_rec = phone_texture(rng, n_modules, m, matrix, brightness)
        rec["phone_screen"] = phone_rec
        # texture px -> unit code square -> trapezoid -> size, rotation -> frame
        to_unit = scale(1.0 / code_side) @ translate(-cu, -cv)
        pose = rotate(rotation) @ scale(ss * side_px) @ keystone(edge, shortening, foreshortening) @ to_unit
        q = QUIET_ZONE / n_modules
        qz = apply_h(pose @ np.linalg.inv(to_unit), [(-q, -q), (1 + q, -q), (1 + q, 1 + q), (-q, 1 + q)])
        w2, h2 = width * ss, height * ss
        margin = 0.01 * h2
        lo = -qz.min(axis=0) + margin
        hi = np.array([w2, h2]) - qz.max(axis=0) - margin
        if centred:
            t = (lo + hi) / 2
        else:
            t = np.array([rng.uniform(lo[0], max(lo[0], hi[0])), rng.uniform(lo[1], max(lo[1], hi[1]))])
        h_full = translate(*t) @ pose
        warped = cv2.warpPerspective(tex, h_full, (w2, h2), flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
        warped = cv2.resize(warped, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
        a = warped[..., 3:4] / 255.0
        img = img * (1.0 - a) + warped[..., :3]
        to_frame = scale(1.0 / ss) @ h_full
        corners = apply_h(to_frame, [(cu, cv), (cu + code_side, cv), (cu + code_side, cv + code_side),
                                     (cu, cv + code_side)])
        rec["code_corners_px"] = [[round(float(x), 1), round(float(y), 1)] for x, y in corners] if with_code else None
        rec["code_center_px"] = [round(float(v), 1) for v in corners.mean(axis=0)]
        rec["centred"] = bool(centred)

        if glare:
            # a soft bright band through a random point of the screen, on the glass
            sq = apply_h(to_frame, screen_quad)
            wts = rng.dirichlet(np.ones(4))
            px, py = (wts[:, None] * sq).sum(axis=0)
            ang = rng.uniform(0, 180)
            width_px = side_px * rng.uniform(0.03, 0.12)
            amp = rng.uniform(70, 210)
            yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
            nx, ny = -math.sin(math.radians(ang)), math.cos(math.radians(ang))
            d = (xx - px) * nx + (yy - py) * ny
            band = np.exp(-d * d / (2 * width_px ** 2)) + 0.25 * np.exp(-d * d / (2 * (3 * width_px) ** 2))
            tone = np.array([1.0, 0.98, 0.94])
            img = img + (a[..., 0] * band * amp)[..., None] * tone
            rec["glare_params"] = {"angle_deg": round(ang, 1), "sigma_px": round(width_px, 1),
                                   "amplitude": round(amp, 1), "through_px": [round(float(px), 1), round(float(py), 1)]}

    # optics and sensor
    img = img * wb[None, None, :]
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), blur)
    if vignette > 0:
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        r2 = ((xx - width / 2) ** 2 + (yy - height / 2) ** 2) / ((width / 2) ** 2 + (height / 2) ** 2)
        img = img * (1.0 - vignette * r2)[..., None]
    img = img + rng.normal(0.0, noise, img.shape).astype(np.float32)
    out = np.clip(np.round(img), 0, 255).astype(np.uint8)
    return out, text, rec


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True, help="frames with a code")
    ap.add_argument("--no-code", type=int, default=0, metavar="K", help="extra frames without any code")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--centred", action="store_true", help="centre the code instead of a random position")
    args = ap.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [(0, i, f"frame-{i:04d}") for i in range(args.count)]
    jobs += [(1, i, f"nocode-{i:04d}") for i in range(args.no_code)]
    for kind, index, name in jobs:
        rng = np.random.default_rng([args.seed, kind, index])
        img, text, rec = make_frame(rng, with_code=(kind == 0), centred=args.centred)
        rec = {"name": name, "seed": args.seed, "index": index, **rec}
        Image.fromarray(img).save(args.out / f"{name}.jpg", quality=JPEG_QUALITY)
        (args.out / f"{name}.txt").write_text(text, encoding="utf-8")
        (args.out / f"{name}.json").write_text(json.dumps(rec, indent=1) + "\n", encoding="utf-8")
        print(f"{name}: {rec['width']}x{rec['height']}"
              + (f" v{rec['qr_version']} side {rec['code_side_frac']:.0%} rot {rec['rotation_deg']:+.0f}"
                 f" persp {rec['perspective_shortening']:.0%} bright {rec['brightness']:.0%}"
                 f" glare {'y' if rec['glare'] else 'n'} blur {rec['blur_sigma']:.2f} noise {rec['noise_sigma']:.1f}"
                 if kind == 0 else " (no code)"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
