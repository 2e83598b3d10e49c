"""The image watermark (`watermark.image`) carried through video, streaming, frame by frame.

Embedding
    `embed_video` decodes the source with PyAV and re-encodes it to H.264 (libx264,
    yuv420p; MP4 unless the destination's suffix says .mkv or .mov), never holding more
    than a frame or two. The tile depends only on (frame size, payload, key), so it is laid
    out once per video (`image.pattern`); each frame costs the masking map and one
    multiply-add on its Y plane, which is marked directly (no RGB round trip; chroma is
    left as decoded). The mark's RMS is VIDEO_STRENGTH grey levels on a frame with
    texture and less on a nearly flat one (VIDEO_MAX_GAIN): a fade or a dark scene would
    otherwise carry a mark several times its own texture, the one place grain shows.
    Each marked Y plane's SSIM against the source's is then measured (`watermark.ssim`:
    as scikit-image computes it, on the plane as written, peak 255, as codecs measure),
    and a frame that falls under SSIM_FLOOR carries the mark scaled down just enough to
    reach it: smooth pictures (a photograph scaled up, soft focus) lose a little strength,
    frames with texture none. The check costs about twice the rest of the marking (1080p,
    codec excluded: 22 to 31 frames a second of CPU time against 70 to 77 without it, on a
    shared, heavily loaded machine, so near the 24 of the goal); a frame is first tried
    at the scale its last frame's SSIM calls for (`next_scale`), so a smooth shot costs
    about one check a frame. SSIM and PSNR of every frame are reported
    (`VideoEmbedResult`). Every frame carries the same mark in the same place. Cells are
    `video_cell(h, w)` = min(h, w) / CELL_DIVISOR pixels, rounded down (8 at 1080p, 5 at
    720p, 2 at 360p): about twice the image default, so that a copy scaled down to 360p
    still has cells of 2.5 px or more, which survive H.264 at CRF 30 or 500 kbit/s, while
    the tile stays under half the frame's shorter side. Timestamps are copied from the
    source frame by frame (so its frame rate, constant or variable, is kept); audio streams
    are remuxed packet for packet, not re-encoded. Sources of more than 8 bits (e.g.
    yuv420p10le) and other pixel formats are converted to 8-bit yuv420p, which is what is
    written.

Detection
    `detect_video` decodes a stretch (from `start`, at most `max_seconds`), takes the Y
    plane of every frame, scaled down by a whole factor to about ANALYSIS_SIDE lines
    (1080p: by 2, so cells stay 4 px), and sums the frames' high-pass residuals
    (`image.residual`): the mark is in the same place in every frame of a copy, the
    picture is not, so the sum favours the mark by up to the square root of the frame
    count. The lattice search, folding and sync then run once, on the sum; as for stills
    it also finds the rectangular lattice of a copy shown at another aspect ratio, the
    long period of a 9:16 column (a 608 x 1080 copy holds only ~1.2 tiles across), and
    reads each fold mirrored too (`image`). Two things
    make it hold up under strong compression. Frames are weighted by how they were coded
    (FRAME_WEIGHTS): an intra frame carries the mark as it reached the encoder, while a
    predicted frame of a moving shot drags it along with the picture, so a second sum of
    the intra frames alone is folded too. And the lattice search leaves out the coding
    block grid, whose regular edges otherwise outscore a faint mark (`block_grid` in
    `image`). A damaged or truncated file is read up to where decoding fails.

False positives
    One call reads the evidence once: the candidate lattices of both sums are folded, and
    under each of k keys the fold of strongest sync is kept, and decoded (one Viterbi
    decode and CRC-32 check) only if that sync reaches image.SYNC_THRESHOLD. More folds
    raise the best sync of unmarked video a little, never the number of decodes: with
    LATTICE_CANDIDATES square lattices, the long-period one, the rectangular ones where
    they score well enough, and each fold mirrored, 24 to 32 hypotheses (2 sums x 6 to 8
    lattices x 2), the best sync of
    unmarked and foreign-keyed clips measured mean 5.4, max 7.8 (120 reads: 4 unmarked
    clips, photo footage at 720p and 1080p, bigbuckbunny and bikes, and 11 marked copies,
    as marked, at CRF 30, mirrored, at 4:3, 21:9 and 9:16, each read under 8 keys they
    were not marked with); mean 4.9, max 7.8 with the 10 square-lattice folds alone. As for
    still images, a reading without this key's mark passes the CRC with probability
    2**-32, so the probability of reporting a payload for a video without a mark under
    any of the keys is at most k x 2**-32 per call (one in four billion for one key,
    ~2.3e-8 for 100 keys), whatever the video's length. Copies under other keys are
    content without this key's mark: the same bound covers them.
    When the whole frame gives no payload, the summed residual is read again by
    `watermark.regions` (windows for a copy inset in other footage; lattices along the
    axes and at the tile periods of the standard frame heights for a heavy crop; the
    lattices the picture's two halves fold alike along, `watermark.agreement`, for a
    warped copy), with at most one more decode per key: 2k x 2**-32 per call in all; given
    a `screen` (a copy recorded off a screen), or finding one in the frames' mean
    luminance once a frame is dark along three edges (`watermark.screens`), one more per
    key along it (`watermark.perspective`): 3k x 2**-32.

Limits (measured by benchmarks/watermark_video.py; docs/watermark-video-benchmark.md)
    Every attack of VIDEO_ATTACKS reads on 1080p footage. The simulated screen recording
    of a 720p source (cells of 3.75 px after its 75 % rescale, on a slightly sheared
    lattice that the warp's interpolation beats outrank in the autocorrelation) reads in
    the second stage, along the lattice its halves agree on (bigbuckbunny: sync 12.2;
    2-s 720p clips 11.9, 12.2). On bikes (272 lines, cells of 1.5 px) it does not: folded
    along the attack's exact geometry the sum reaches sync 4.7 (its intra frames 5.9,
    analysed at twice the size 7.3), no more than video without a mark. Nor does
    picture-in-picture of a 272-line source: along the exact inset, pip60 (163 lines,
    cells of 1.2 px) reaches sync 5.7 (analysed at 2-3 times the size, 8.5-9.0, below
    both gates), pip40 (109 lines, cells of 0.8 px) 4.1 (5.2). The weakest other case is
    one long moving shot with a single intra frame, heavily compressed: the predicted
    frames then carry little of the mark.
    Sources of 360 lines or fewer get 2-pixel cells and survive fewer attacks, like small
    stills. Strength is a trade, now made per frame: at 2.4 throughout, the mark's SSIM
    (Y plane) fell to 0.9758 on the footage's smoothest shot (chelsea scaled up to 1080p)
    and 0.9701 on bikes; 2.2 throughout would keep SSIM above 0.98 but loses 720p scaled
    to 360p at CRF 30. With SSIM_FLOOR those frames carry 2.1 (footage) and down to 1.9
    (bikes) grey levels RMS and measure SSIM 0.981 or more, PSNR 40.26 dB or more; the
    weak rows of the benchmark (360p at CRF 30 and 500 kbit/s, crops at CRF 30, the
    screen recording, picture-in-picture, bars) read as before, within a unit of sync.
    Mirroring, 4:3, 21:9 and the 9:16 column (608 x 1080) read on a 10-s excerpt of
    1080p footage with sync 46 to 53, and on bigbuckbunny (720p, flat animation) with
    23 to 30, the 9:16 column with 20: the column keeps a third of the picture, and its
    tile, nearly as wide as the frame, is found only by the long-period search. The other
    classes of `video_attacks.GEOMETRY_ATTACKS` (camcorder, heavy crops,
    picture-in-picture, bars) are rows of the benchmark; the camcorder reads only along
    the screen's corners (`watermark.perspective`: 10-s excerpts of 1080p footage at 3
    camera placements, not bigbuckbunny at 720p), given as `screen` or found blind where
    two sides that meet, three or four show (`watermark.screens`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from watermark import agreement, image, perspective, regions, screens, ssim
from watermark.errors import WatermarkError
from watermark.keys import check_key
from watermark.payload import check_payload

CELL_DIVISOR = 135  # video cells are min(h, w) / CELL_DIVISOR pixels (at least image.MIN_CELL)
VIDEO_STRENGTH = 2.4  # RMS of the mark in grey levels, per frame, at most (SSIM_FLOOR): PSNR ~40.5 dB (stills: 1.9)
VIDEO_MAX_GAIN = 0.25  # `image.masking`: nearly flat frames (fades, dark scenes) carry less than VIDEO_STRENGTH
SSIM_FLOOR = 0.981  # per frame: a frame whose mark would cost more SSIM carries it weaker (`ssim.limit`)
MIN_SIDE = 192  # pixels on the shorter side: a 128-pixel tile must fit 1.5 times to be found
MAX_PIXELS = 50_000_000  # per frame
ANALYSIS_SIDE = 540  # detection scales frames down by a whole factor, to about this shorter side
FRAME_WEIGHTS = {1: 8.0, 5: 8.0, 7: 8.0, 3: 0.5}  # by picture type: I, SI, BI; B (others 1)
LATTICE_CANDIDATES = 5  # lattices folded and tried: one fold costs far less than decoding the video
STANDARD_LINES = perspective.MARKED_LINES  # frame heights whose tile period a crop keeps
STEP = 1  # detection reads every STEP-th predicted frame (intra frames always)
_CONTAINERS = {".mkv": "matroska", ".mov": "mov"}  # by destination suffix; anything else: mp4
_NOT_VIDEO = {"tty", "image2"}  # demuxers that open text or still images as "video"

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class VideoEmbedResult:
    frames: int
    width: int
    height: int
    seconds: float  # duration of the marked video (last frame's time plus one frame)
    mean_psnr: float  # of the marked Y planes against the decoded source, before encoding
    min_psnr: float
    mean_ssim: float  # likewise (`watermark.ssim`: as scikit-image computes it)
    min_ssim: float
    cell: int  # pixels per cell side


@dataclass(frozen=True)
class VideoDetection:
    payload: int | None  # None: no mark under any of the keys
    confidence: float  # correlation of the soft values with the decoded codeword, 0..1
    sync: float  # sync strength of the reported key (the strongest seen when no payload)
    key_index: int | None  # which of the keys matched
    frames: int  # frames whose residuals were summed


def video_cell(h: int, w: int) -> int:
    """Pixels per cell side for video: min(h, w) / CELL_DIVISOR, rounded down so that the
    tile (64 cells) stays under half the shorter side, and found again after a 25 % crop."""
    return max(image.MIN_CELL, min(h, w) // CELL_DIVISOR)


# ---------------------------------------------------------------- input


def open_video(path: str | Path) -> av.container.InputContainer:
    """The file opened for demuxing, with at least one video stream; WatermarkError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise WatermarkError(f"{path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise WatermarkError(f"{path} is empty")
    try:
        container = av.open(str(path), "r")
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as e:
        raise WatermarkError(f"{path} is not a video, or is damaged or truncated ({e})") from None
    if not container.streams.video or container.format.name in _NOT_VIDEO or container.format.name.endswith("_pipe"):
        container.close()
        raise WatermarkError(f"{path} is not a video (no video stream)")
    return container


def _frame_size(stream: av.video.stream.VideoStream, path: Path) -> tuple[int, int]:
    h, w = stream.codec_context.height, stream.codec_context.width
    if not h or not w:
        raise WatermarkError(f"{path}: the video stream has no frame size (no decodable video)")
    if h * w > MAX_PIXELS:
        raise WatermarkError(f"{path}: frames of {w} x {h} are over the limit of {MAX_PIXELS // 1_000_000} megapixels")
    return h, w


def _time_base(stream: av.video.stream.VideoStream) -> Fraction:
    """The stream's time base; a video stream that was opened for reading always has one."""
    assert stream.time_base is not None, "a video stream without a time base"
    return stream.time_base


def _frames(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, path: Path
) -> Iterator[av.VideoFrame]:
    """Decoded frames of `stream` until the end or the first stretch that cannot be read."""
    try:
        for packet in container.demux(stream):
            yield from packet.decode()
    except (av.FFmpegError, EOFError):
        return  # damaged or truncated: what decoded so far is what there is


# ---------------------------------------------------------------- embedding


def _output(dst: Path) -> tuple[Path, str]:
    fmt = _CONTAINERS.get(dst.suffix.lower(), "mp4")
    return dst.with_name(f".{dst.name}.partial"), fmt


def embed_video(
    src: str | Path,
    dst: str | Path,
    payload: int,
    key: bytes,
    *,
    strength: float = VIDEO_STRENGTH,
    progress: Progress | None = None,
    crf: int = 18,
    preset: str = "veryfast",
    cell: int | None = None,
    ssim_floor: float | None = SSIM_FLOOR,
) -> VideoEmbedResult:
    """Mark every frame of `src` with `payload` under `key` and write H.264 to `dst`
    (written to a temporary name beside it and renamed when complete). A frame whose mark
    at `strength` would bring its SSIM under `ssim_floor` carries it weaker (None: never)."""
    key, payload = check_key(key), check_payload(payload)
    if not strength > 0:
        raise WatermarkError(f"the strength must be positive (got {strength})")
    if ssim_floor is not None and not 0 < ssim_floor < 1:
        raise WatermarkError(f"the SSIM floor must be between 0 and 1 (got {ssim_floor})")
    src, dst = Path(src), Path(dst)
    with open_video(src) as container:
        vin = container.streams.video[0]
        vin.thread_type = "AUTO"
        h, w = _frame_size(vin, src)
        if min(h, w) < MIN_SIDE:
            raise WatermarkError(
                f"{src}: frames of {w} x {h} are too small to mark (at least {MIN_SIDE} pixels a side)"
            )
        if h % 2 or w % 2:
            raise WatermarkError(f"{src}: frames of {w} x {h} have an odd side, which 4:2:0 H.264 cannot carry")
        c = video_cell(h, w) if cell is None else image._check_cell(cell)
        plane = image.pattern(h, w, payload, key, c)
        audio = list(container.streams.audio)
        total = vin.frames or None
        tmp, fmt = _output(dst)
        try:
            out = av.open(str(tmp), "w", format=fmt, options={"movflags": "+faststart"} if fmt == "mp4" else {})
        except (av.FFmpegError, OSError) as e:
            raise WatermarkError(f"cannot write {dst}: {e}") from None
        try:
            rate = vin.average_rate or vin.guessed_rate or Fraction(25)
            vout = out.add_stream("libx264", rate=rate)
            vout.width, vout.height, vout.pix_fmt = w, h, "yuv420p"
            vout.codec_context.time_base = vin.time_base or 1 / rate
            vout.time_base = vin.time_base or 1 / rate
            vout.options = {"crf": str(int(crf)), "preset": preset}
            vout.thread_type = "AUTO"
            try:
                remux = {a.index: out.add_stream_from_template(a) for a in audio}
                out.start_encoding()
            except (av.FFmpegError, ValueError) as e:
                names = ", ".join(a.codec_context.name for a in audio) or "none"
                raise WatermarkError(
                    f"{dst.name}: the {fmt} container cannot take the source's audio ({names}) "
                    f"without re-encoding it, which marking does not do ({e}); try .mkv or .mov"
                ) from None
            frames, psnrs, ssims, last_time, step, scale = 0, [], [], 0.0, 1 / float(rate), 1.0
            for packet in container.demux(vin, *audio):
                if packet.stream.type == "audio":
                    if packet.dts is not None:
                        packet.stream = remux[packet.stream.index]
                        out.mux(packet)
                    continue
                for frame in vin.decode(packet):
                    marked, psnr, quality, scale = _mark_frame(frame, plane, strength, ssim_floor, scale)
                    scale = next_scale(scale, quality, ssim_floor)
                    psnrs.append(psnr)
                    ssims.append(quality)
                    out.mux(vout.encode(marked))
                    frames += 1
                    if frame.time is not None:
                        last_time = max(last_time, frame.time)
                    if frame.duration and frame.time_base:
                        step = float(frame.duration * frame.time_base)
                    if progress is not None:
                        progress(frames, total)
            out.mux(vout.encode(None))
            out.close()
        except BaseException as e:
            try:
                out.close()
            except Exception:
                pass
            tmp.unlink(missing_ok=True)
            if isinstance(e, av.FFmpegError):
                raise WatermarkError(f"{src}: the video could not be re-encoded: {e}") from None
            raise
        if frames == 0:
            tmp.unlink(missing_ok=True)
            raise WatermarkError(f"{src} has no decodable video frames")
        os.replace(tmp, dst)
    finite = [p for p in psnrs if np.isfinite(p)] or [float("inf")]
    return VideoEmbedResult(
        frames=frames,
        width=w,
        height=h,
        seconds=last_time + step,
        mean_psnr=float(np.mean(finite)),
        min_psnr=float(np.min(finite)),
        mean_ssim=float(np.mean(ssims)),
        min_ssim=float(np.min(ssims)),
        cell=c,
    )


def mark_plane(
    y: np.ndarray,
    plane: np.ndarray,
    strength: float = VIDEO_STRENGTH,
    ssim_floor: float | None = SSIM_FLOOR,
    scale: float = 1.0,
) -> tuple[np.ndarray, float, float]:
    """A frame's Y plane (uint8) marked with `plane` (`image.pattern`) at `strength` times
    `scale`, or weaker where that would bring its SSIM under `ssim_floor`: (marked plane,
    its SSIM, the scale used)."""
    stats = image.local_stats(y)
    delta = image.mark_delta(y, plane, strength * scale, VIDEO_MAX_GAIN, stats)
    if ssim_floor is None:
        marked = cv2.add(y, delta, dtype=cv2.CV_8U)
        return marked, ssim.Source(y, stats).ssim(marked), scale
    marked, quality, kept = ssim.limit(y, delta, ssim_floor, stats)
    return marked, quality, scale * kept


def next_scale(scale: float, quality: float, ssim_floor: float | None) -> float:
    """The scale to try the next frame at, after one marked at `scale` measured SSIM
    `quality`: up towards 1 as far as the square law of `ssim.limit` says the floor allows,
    less its SHRINK, so that the next frame of a shot, alike, mostly passes at the first try
    (1.05 checks a frame on the footage's smooth shot, 1.43 without the SHRINK)."""
    if ssim_floor is None or quality >= 1:
        return 1.0
    return min(1.0, scale * ssim.SHRINK * float(np.sqrt((1 - ssim_floor) / (1 - quality))))


def _mark_frame(
    frame: av.VideoFrame, plane: np.ndarray, strength: float, ssim_floor: float | None, scale: float = 1.0
) -> tuple[av.VideoFrame, float, float, float]:
    """The frame (as 8-bit yuv420p) with its Y plane marked (`mark_plane`), the PSNR and
    SSIM of that Y plane, and the scale of the mark it carries."""
    if frame.format.name != "yuv420p":
        frame = frame.reformat(format="yuv420p")
    planes = frame.to_ndarray()  # (h * 3/2, w): Y, then U and V
    h = plane.shape[0]
    y = planes[:h]
    marked, quality, scale = mark_plane(y, plane, strength, ssim_floor, scale)
    mse = cv2.norm(marked, y, cv2.NORM_L2SQR) / y.size
    planes[:h] = marked
    out = av.VideoFrame.from_ndarray(planes, format="yuv420p")
    out.pts, out.time_base = frame.pts, frame.time_base
    out.color_range, out.colorspace = frame.color_range, frame.colorspace
    return out, (10 * np.log10(255.0**2 / mse) if mse > 0 else float("inf")), quality, scale


# ---------------------------------------------------------------- detection


def _shrink(h: int, w: int) -> int:
    """Integer factor by which detection scales a frame down: its shorter side to about
    ANALYSIS_SIDE, by a whole factor so that the coding block grid stays on multiples of
    1/16 cycle per pixel, where the lattice search leaves it out."""
    return max(1, round(min(h, w) / ANALYSIS_SIDE))


def _luma(frame: av.VideoFrame, shrink: int) -> np.ndarray:
    """The frame's luminance (uint8, whatever the source's bit depth), scaled down by
    `shrink` with area averaging."""
    if shrink == 1:
        return frame.to_ndarray(format="gray")
    size = (frame.width // shrink, frame.height // shrink)
    return frame.to_ndarray(format="gray", width=size[0], height=size[1], interpolation="AREA")


def _weight(frame: av.VideoFrame) -> float:
    """How much a frame's residual counts in the sum: intra-coded frames carry the mark as
    it reached the encoder, predicted ones partly dragged along with the picture's motion
    (P), or more coarsely quantised (B)."""
    return FRAME_WEIGHTS.get(int(frame.pict_type), 1.0)


class _Sum:
    """A weighted sum of frames' residuals."""

    def __init__(self) -> None:
        self.total: np.ndarray | None = None
        self.weight = 0.0
        self.frames = 0

    def add(self, r: np.ndarray, weight: float) -> None:
        self.total = weight * r if self.total is None else cv2.scaleAdd(r, weight, self.total)
        self.weight += weight
        self.frames += 1

    def mean(self) -> np.ndarray:
        assert self.total is not None, "a mean of no frames"
        return self.total / self.weight


def detect_video(
    path: str | Path,
    keys: bytes | Sequence[bytes],
    *,
    max_seconds: float | None = None,
    start: float | None = None,
    progress: Progress | None = None,
    step: int = STEP,
    evidence: Callable[[list[np.ndarray]], None] | None = None,
    screen: perspective.Screen | None = None,
) -> VideoDetection:
    """Read the mark from `path` under one key or each of a sequence of keys, summing the
    evidence of the frames from `start` (seconds) for at most `max_seconds`. `evidence`, if
    given, is handed the folded tiles the reading decided on, so that a caller can read
    them again under a key (`image.read`), e.g. to test known payloads (`watermark.tracing`).
    `screen`, if given, says where the marked picture lies in a copy recorded off a screen
    (corners in the copy's pixels; `watermark.perspective`), read along it when nothing
    else reads."""
    keys = image.check_keys(keys)
    path = Path(path)
    if max_seconds is not None and not max_seconds > 0:
        raise WatermarkError(f"max_seconds must be positive (got {max_seconds})")
    with open_video(path) as container:
        vin = container.streams.video[0]
        vin.thread_type = "AUTO"
        _frame_size(vin, path)
        first = None
        if start:
            try:
                container.seek(int(start / _time_base(vin)) + (vin.start_time or 0), stream=vin)
            except av.FFmpegError as e:
                raise WatermarkError(f"{path}: cannot seek to {start} s ({e})") from None
        total = vin.frames or None
        if total and max_seconds and vin.average_rate:
            total = min(total, int(np.ceil(max_seconds * float(vin.average_rate))))
        every, intra, recorded, lit, decoded = _Sum(), _Sum(), _Sum(), _Sum(), 0
        gathering = screen is not None  # a screen's evidence, summed once a frame looks recorded off one
        shrink = _shrink(vin.codec_context.height, vin.codec_context.width)
        for frame in _frames(container, vin, path):
            t = frame.time
            if start and t is not None and t + 1e-6 < start:
                continue
            if first is None:
                first = t if t is not None else 0.0
            if max_seconds is not None and t is not None and t - first >= max_seconds - 1e-6:
                break
            decoded += 1
            weight = _weight(frame)
            if (decoded - 1) % step and weight <= 1:
                continue
            y = _luma(frame, shrink)
            if every.total is not None and y.shape != every.total.shape:
                continue  # a resolution change mid-stream: keep to the first size
            if min(y.shape) < image.TILE_CELLS * image.MIN_CELL:
                raise WatermarkError(f"{path}: frames of {frame.width} x {frame.height} are too small to carry a mark")
            r = image.residual(y)
            every.add(r, weight)
            if weight > 1:
                intra.add(r, 1.0)
            gathering = gathering or screens.dark_margin(y)
            if gathering:
                recorded.add(perspective.screen_residual(y), weight)
                lit.add(y.astype(np.float32), 1.0)
            if progress is not None:
                progress(decoded, total)
    if every.frames == 0:
        raise WatermarkError(f"{path}: no video frame could be decoded" + (f" after {start} s" if start else ""))
    mean = every.mean()
    folds = image.fold_candidates(mean, LATTICE_CANDIDATES, block_grid=True)
    if 0 < intra.frames < every.frames:
        folds += image.fold_candidates(intra.mean(), LATTICE_CANDIDATES, block_grid=True)
    if evidence is not None:
        evidence(folds)
    found = image.decide(folds, keys)
    if found.payload is None:  # second stage: a copy inset in other footage, or heavily cropped
        periods = [image.TILE_CELLS * video_cell(side, side * 16 // 9) / shrink for side in STANDARD_LINES]
        found = regions.detect_regions(
            mean,
            keys,
            block_grid=True,
            strongest=found.sync,
            periods=periods,
            axes=True,
            lattices=agreement.agreeing_lattices(mean, block_grid=True),
        )
    if found.payload is None and recorded.frames:  # third: along a recorded screen's perspective, given or found
        if screen is not None:
            candidates = [perspective.Candidate([screen.scaled(1 / shrink)])]
        else:
            candidates = screens.screens_in(lit.mean(), video_cell)
        if candidates:
            found = perspective.detect_screens(recorded.mean(), keys, candidates, found.sync)
    return VideoDetection(found.payload, found.confidence, found.sync, found.key_index, every.frames)
