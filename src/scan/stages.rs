//! The image work of the decode stages: halving, the code-like region of a
//! frame, and the local contrast stretch. Plain pixel loops, no decoder.

use image::GrayImage;

/// A grey image halved in each dimension (2×2 mean).
pub fn half_luma(luma: &[u8], width: u32, height: u32) -> GrayImage {
    let (hw, hh) = (width / 2, height / 2);
    let w = width as usize;
    if hw == 0 || hh == 0 || luma.len() < w * height as usize {
        return GrayImage::default();
    }
    let mut out = Vec::with_capacity(hw as usize * hh as usize);
    for rows in luma.chunks_exact(2 * w).take(hh as usize) {
        let (top, bottom) = rows.split_at(w);
        out.extend(
            top.chunks_exact(2)
                .zip(bottom.chunks_exact(2))
                .take(hw as usize)
                .map(|(t, b)| ((u16::from(t[0]) + u16::from(t[1]) + u16::from(b[0]) + u16::from(b[1])) / 4) as u8),
        );
    }
    GrayImage::from_raw(hw, hh, out).unwrap_or_default()
}

/// Local contrast doubled: each pixel's distance from the mean of the 3×3
/// blocks around its own (a block is a twentieth of the short side, 16 to
/// 64 px) is doubled about mid-grey. Flattens glare and uneven light and
/// lifts a dim or blurred code's swing above the binarizer's threshold.
pub fn stretch_contrast(luma: &[u8], width: u32, height: u32) -> GrayImage {
    const GAIN: i32 = 2;
    let block = (width.min(height) / 20).clamp(16, 64) as usize;
    let (w, h) = (width as usize, height as usize);
    if w == 0 || h == 0 || luma.len() < w * h {
        return GrayImage::default();
    }
    let (bw, bh) = (w.div_ceil(block), h.div_ceil(block));
    let mut sums = vec![0u32; bw * bh];
    let mut counts = vec![0u32; bw * bh];
    for (y, row) in luma.chunks_exact(w).take(h).enumerate() {
        let base = (y / block) * bw;
        for (x, v) in row.iter().enumerate() {
            sums[base + x / block] += u32::from(*v);
            counts[base + x / block] += 1;
        }
    }
    let mut means = vec![0i32; bw * bh];
    for by in 0..bh {
        for bx in 0..bw {
            let (mut sum, mut count) = (0u32, 0u32);
            for yy in by.saturating_sub(1)..(by + 2).min(bh) {
                for xx in bx.saturating_sub(1)..(bx + 2).min(bw) {
                    sum += sums[yy * bw + xx];
                    count += counts[yy * bw + xx];
                }
            }
            means[by * bw + bx] = (sum / count.max(1)) as i32;
        }
    }
    let mut out = Vec::with_capacity(w * h);
    for (y, row) in luma.chunks_exact(w).take(h).enumerate() {
        let block_means = &means[(y / block) * bw..(y / block + 1) * bw];
        out.extend(row.iter().enumerate().map(|(x, v)| {
            let mean = block_means[x / block];
            (128 + (i32::from(*v) - mean) * GAIN).clamp(0, 255) as u8
        }));
    }
    GrayImage::from_raw(width, height, out).unwrap_or_default()
}

/// Where a code probably is: the bounding box (`x`, `y`, `width`, `height`
/// in full-resolution pixels) of the largest cluster of edge-dense blocks,
/// found at quarter resolution, with a margin of six blocks. A QR code is
/// the densest texture a webcam sees of a phone; a crop around it costs the
/// decoder a fraction of the frame. `None` when nothing is dense enough.
///
/// `half` is the image at half resolution ([`half_luma`], which the first
/// decode stage has made already); `width` × `height` is the full size.
pub fn code_region(half: &GrayImage, width: u32, height: u32) -> Option<(u32, u32, u32, u32)> {
    /// Block side at quarter resolution (32 px at full).
    const BLOCK: usize = 8;
    /// A step in brightness between neighbours that counts as an edge.
    const EDGE_STEP: i32 = 12;
    /// The share of a block's pixels on an edge that makes it dense.
    const DENSE_PERCENT: usize = 30;
    let quarter = half_luma(half.as_raw(), half.width(), half.height());
    let (w, h) = (quarter.width() as usize, quarter.height() as usize);
    let (bw, bh) = (w / BLOCK, h / BLOCK);
    if bw < 2 || bh < 2 {
        return None;
    }
    let q = quarter.as_raw();
    let mut dense = vec![false; bw * bh];
    for by in 0..bh {
        for bx in 0..bw {
            let mut edges = 0;
            for y in by * BLOCK..((by + 1) * BLOCK).min(h - 1) {
                for x in bx * BLOCK..((bx + 1) * BLOCK).min(w - 1) {
                    let v = i32::from(q[y * w + x]);
                    let step = (v - i32::from(q[y * w + x + 1])).abs().max((v - i32::from(q[(y + 1) * w + x])).abs());
                    edges += usize::from(step > EDGE_STEP);
                }
            }
            dense[by * bw + bx] = edges * 100 >= DENSE_PERCENT * BLOCK * BLOCK;
        }
    }
    // The largest 8-connected cluster of dense blocks.
    let mut seen = vec![false; bw * bh];
    let mut best: Option<(usize, [usize; 4])> = None;
    let mut stack = Vec::new();
    for start in 0..bw * bh {
        if !dense[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let (mut blocks, mut bbox) = (0, [usize::MAX, usize::MAX, 0, 0]);
        while let Some(i) = stack.pop() {
            blocks += 1;
            let (x, y) = (i % bw, i / bw);
            bbox = [bbox[0].min(x), bbox[1].min(y), bbox[2].max(x), bbox[3].max(y)];
            for ny in y.saturating_sub(1)..(y + 2).min(bh) {
                for nx in x.saturating_sub(1)..(x + 2).min(bw) {
                    let j = ny * bw + nx;
                    if dense[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        if best.is_none_or(|(most, _)| blocks > most) {
            best = Some((blocks, bbox));
        }
    }
    let (blocks, [x0, y0, x1, y1]) = best?;
    // A code of 21 modules at a pixel a module already covers four blocks.
    if blocks < 4 {
        return None;
    }
    let side = (BLOCK * 4) as u32;
    // Six blocks (192 px) each side: a glare band or a blurred corner can
    // leave part of the code below the density mark, and the crop must
    // still hold all of it.
    let margin = 6;
    let left = (x0 as u32).saturating_sub(margin) * side;
    let top = (y0 as u32).saturating_sub(margin) * side;
    let right = ((x1 as u32 + 1 + margin) * side).min(width);
    let bottom = ((y1 as u32 + 1 + margin) * side).min(height);
    Some((left, top, right.saturating_sub(left), bottom.saturating_sub(top)))
}

/// The rows and columns of `luma` inside the box, as an image of their own.
pub fn crop_luma(luma: &[u8], width: u32, (x, y, w, h): (u32, u32, u32, u32)) -> GrayImage {
    let (x, y, w, h, stride) = (x as usize, y as usize, w as usize, h as usize, width as usize);
    if x + w > stride || (y + h) * stride > luma.len() {
        return GrayImage::default();
    }
    let mut out = Vec::with_capacity(w * h);
    for row in y..y + h {
        out.extend_from_slice(&luma[row * stride + x..row * stride + x + w]);
    }
    GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_default()
}
