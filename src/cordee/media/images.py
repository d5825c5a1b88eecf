"""Checking and re-encoding uploaded images. Pure CPU work on hostile bytes: the server runs it in a
capped worker process (``cordee.media.workers``), never in its own.

- The type is read from the content (JPEG, PNG, GIF, WebP), never from the file name.
- The size in bytes, in pixels, in frames and in pixels decoded over all frames (an animation's
  every frame is decoded onto the whole canvas) is bounded *before* the pixels are decoded, from the
  container's headers (``cordee.media.headers``); the decoding loop holds to the same budget.
- The EXIF orientation is applied, then every piece of metadata is dropped by re-encoding (EXIF
  with its GPS position, XMP, comments, text chunks); an embedded colour profile is applied
  (converted to sRGB) rather than kept.
- A small preview (at most 640 pixels a side) and a blurhash of it are made.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import blurhash
from PIL import Image, ImageCms, ImageOps, ImageSequence, UnidentifiedImageError

from cordee.media.headers import Canvas, Unreadable, scan

#: Pillow format name → (MIME type, file extension).
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
SUPPORTED_MIME_TYPES = [mime for mime, _ in FORMATS.values()]
SMALL_SIDE = 640
#: Still images with more pixels than this are scaled down (3840×2160, as Mastodon does).
ORIGINAL_MAX_PIXELS = 8_294_400
BLURHASH_COMPONENTS = (4, 4)
#: Frame details an animation needs; every other ``info`` entry (metadata) is dropped.
_KEPT_INFO = ("transparency", "duration", "loop", "background", "disposal", "blend")


class MediaRejected(ValueError):
    """The upload is not an image this server accepts; the message says why, for the person."""


@dataclass(frozen=True)
class ImageLimits:
    """What an upload may cost (``Settings.image_*``)."""

    max_bytes: int
    #: Width × height of the image (of the canvas, for an animation).
    max_pixels: int
    max_frames: int
    #: Frames × canvas pixels: what decoding an animation holds in memory (about 4 bytes each).
    max_animation_pixels: int


_CORRUPT = "File could not be read as an image: it is corrupt or truncated"


@dataclass(frozen=True)
class Rendition:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class ProcessedImage:
    original: Rendition
    small: Rendition
    blurhash: str


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} bytes"
    return f"{size / (1024 * 1024):.1f} MB"


def _too_large(width: int, height: int, max_pixels: int) -> MediaRejected:
    return MediaRejected(f"Image is too large: {width}×{height} pixels (the limit is {max_pixels} pixels)")


def _animation_too_large(width: int, height: int, frames: int, limits: ImageLimits) -> MediaRejected:
    return MediaRejected(
        f"{width}x{height} animations of {frames} frames are not supported "
        f"(the limit is {limits.max_animation_pixels} pixels over all frames)"
    )


def _check_canvas(canvas: Canvas, limits: ImageLimits) -> None:
    """Refuse what would cost too much to decode, from the headers alone."""
    if canvas.frames > limits.max_frames:
        raise MediaRejected(f"Animations of more than {limits.max_frames} frames are not supported")
    if canvas.pixels > limits.max_pixels:
        raise _too_large(canvas.width, canvas.height, limits.max_pixels)
    if canvas.frames > 1 and canvas.frames * canvas.pixels > limits.max_animation_pixels:
        raise _animation_too_large(canvas.width, canvas.height, canvas.frames, limits)


def _open(data: bytes, max_pixels: int) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except UnidentifiedImageError:
        raise MediaRejected(
            "File type is not supported: only JPEG, PNG, GIF and WebP images are accepted"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaRejected(f"Image is too large: more than {max_pixels} pixels") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise MediaRejected(_CORRUPT) from None
    width, height = image.size
    if width < 1 or height < 1:
        raise MediaRejected("File could not be read as an image: it has no pixels")
    if width * height > max_pixels:
        raise _too_large(width, height, max_pixels)
    return image


def _frames(image: Image.Image, limits: ImageLimits) -> list[Image.Image]:
    """Every frame decoded (this is where a corrupt or truncated file is found out), within the
    budget whatever the headers said."""
    frames: list[Image.Image] = []
    decoded = 0
    try:
        for frame in ImageSequence.Iterator(image):
            decoded += frame.width * frame.height
            if frames and len(frames) >= limits.max_frames:
                raise MediaRejected(f"Animations of more than {limits.max_frames} frames are not supported")
            if frames and decoded > limits.max_animation_pixels:
                raise _animation_too_large(frame.width, frame.height, len(frames) + 1, limits)
            frames.append(frame.copy())
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        if isinstance(e, MediaRejected):
            raise
        raise MediaRejected(_CORRUPT) from None
    return frames


def _same(a: Image.Image, b: Image.Image) -> bool:
    if a.size != b.size:
        return False
    if a.mode != b.mode or a.getpalette() != b.getpalette():
        a, b = a.convert("RGBA"), b.convert("RGBA")
    return a.tobytes() == b.tobytes()


def _merge_repeats(frames: list[Image.Image]) -> list[Image.Image]:
    """A frame equal to the one before only makes that one last longer. Pillow's GIF writer merges
    them too, but fails when a single frame is left: an animation of identical frames is a still."""
    kept = frames[:1]
    for frame in frames[1:]:
        if _same(kept[-1], frame):
            previous = kept[-1].info
            previous["duration"] = previous.get("duration", 100) + frame.info.get("duration", 100)
        else:
            kept.append(frame)
    return kept


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Apply an embedded colour profile (so the pixels look right without it), or leave as is."""
    if not icc or image.mode not in ("RGB", "RGBA", "L", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        target = ImageCms.createProfile("sRGB")
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, target, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # an unusable profile: keep the pixels as they are
    return converted if converted is not None else image


def _clean(image: Image.Image) -> Image.Image:
    image.info = {k: v for k, v in image.info.items() if k in _KEPT_INFO}
    return image


def _encode(frames: list[Image.Image], fmt: str) -> bytes:
    out = io.BytesIO()
    first = frames[0]
    options: dict[str, object] = {}
    if fmt == "JPEG":
        options = {"quality": 90, "optimize": True}
    elif fmt == "WEBP":
        options = {"quality": 90}
    elif fmt == "GIF":
        options = {"comment": b""}
    if len(frames) > 1:
        options.update(
            save_all=True,
            append_images=frames[1:],
            duration=[f.info.get("duration", 100) for f in frames],
            loop=first.info.get("loop", 0),
        )
        if fmt == "GIF":
            options["disposal"] = [f.info.get("disposal", 0) for f in frames]
    first.save(out, format=fmt, **options)
    return out.getvalue()


def _still_for(fmt: str, image: Image.Image) -> Image.Image:
    """The image in a mode its format can store."""
    if fmt == "JPEG":
        return image if image.mode in ("L", "RGB") else image.convert("RGB")
    if fmt == "WEBP" and image.mode not in ("RGB", "RGBA"):
        return image.convert("RGBA" if _has_alpha(image) else "RGB")
    return image


def _shrink(image: Image.Image, max_pixels: int) -> Image.Image:
    width, height = image.size
    if width * height <= max_pixels:
        return image
    scale = math.sqrt(max_pixels / (width * height))
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    size = (max(1, int(width * scale)), max(1, int(height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _small(image: Image.Image, fmt: str) -> Rendition:
    """The preview: a PNG stays a PNG (as Mastodon keeps a thumbnail's format: clients check
    it), as does anything with transparency; the rest becomes a JPEG."""
    alpha = _has_alpha(image)
    preview = image.convert("RGBA" if alpha else "RGB")
    preview.thumbnail((SMALL_SIDE, SMALL_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if alpha or fmt == "PNG":
        preview.save(out, format="PNG")
        mime, ext = FORMATS["PNG"]
    else:
        preview.save(out, format="JPEG", quality=85)
        mime, ext = FORMATS["JPEG"]
    return Rendition(out.getvalue(), mime, ext, preview.width, preview.height)


def _blurhash(image: Image.Image) -> str:
    tiny = image.convert("RGBA")
    tiny.thumbnail((32, 32), Image.Resampling.BILINEAR)
    background = Image.new("RGBA", tiny.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(background, tiny).convert("RGB")
    pixels: list[tuple[int, int, int]] = list(rgb.get_flattened_data())  # type: ignore[arg-type]
    rows = [pixels[y * rgb.width : (y + 1) * rgb.width] for y in range(rgb.height)]
    x_components, y_components = BLURHASH_COMPONENTS
    return str(blurhash.encode(rows, x_components, y_components))


def _decode(data: bytes, limits: ImageLimits) -> tuple[str, list[Image.Image], bytes | None]:
    """The format, the frames (repeats merged) and the colour profile of an upload, after every
    check: raises ``MediaRejected`` with the reason."""
    if not data:
        raise MediaRejected("File is empty")
    if len(data) > limits.max_bytes:
        raise MediaRejected(f"File is too large: the limit is {_megabytes(limits.max_bytes)}")
    try:
        canvas = scan(data, limits.max_frames)
    except Unreadable:
        raise MediaRejected(_CORRUPT) from None
    if canvas is not None:
        _check_canvas(canvas, limits)
    image = _open(data, limits.max_pixels)
    fmt = image.format or ""
    if fmt not in FORMATS:  # e.g. MPO: a JPEG holding several pictures
        raise MediaRejected("File type is not supported: only JPEG, PNG, GIF and WebP images are accepted")
    return fmt, _merge_repeats(_frames(image, limits)), image.info.get("icc_profile")


def process_image(data: bytes, limits: ImageLimits) -> ProcessedImage:
    """Check an upload and produce what is stored: raises ``MediaRejected`` with the reason."""
    fmt, frames, icc = _decode(data, limits)
    if len(frames) > 1:
        # Animations keep their frames and size; only their metadata goes.
        stored = [_clean(frame) for frame in frames]
        first = frames[0]
    else:
        upright = ImageOps.exif_transpose(frames[0])
        first = _shrink(_to_srgb(upright, icc), ORIGINAL_MAX_PIXELS)
        stored = [_clean(_still_for(fmt, first))]
    try:
        encoded = _encode(stored, fmt)
    except (OSError, ValueError) as e:
        raise MediaRejected(f"File could not be converted: {e}") from None
    mime, ext = FORMATS[fmt]
    original = Rendition(encoded, mime, ext, stored[0].width, stored[0].height)
    return ProcessedImage(original, _small(first, fmt), _blurhash(first))


#: Profile images, as Mastodon makes them: scaled to fill, then centre-cropped to exactly this size.
PROFILE_SIZES = {"avatar": (400, 400), "header": (1500, 500)}


def _fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    return ImageOps.fit(image, size, Image.Resampling.LANCZOS)


def _png(image: Image.Image) -> Rendition:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    mime, ext = FORMATS["PNG"]
    return Rendition(out.getvalue(), mime, ext, image.width, image.height)


def process_profile_image(data: bytes, limits: ImageLimits, kind: str) -> ProcessedImage:
    """An avatar or a header: checked as any upload, cropped to ``PROFILE_SIZES[kind]``, metadata
    dropped. An animation stays one (in its format); ``small`` is then its first frame as a PNG (the
    ``*_static`` image). For a still image ``small`` is the image itself and ``blurhash`` is empty."""
    size = PROFILE_SIZES[kind]
    fmt, frames, icc = _decode(data, limits)
    if len(frames) > 1:
        # Pillow hands out every GIF/WebP frame composited on the whole canvas: each can be cropped.
        stored = []
        for frame in frames:
            fitted = _clean(_fit(frame, size))
            fitted.info.update({k: frame.info[k] for k in ("duration", "loop") if k in frame.info})
            stored.append(fitted)
        static = _png(stored[0])
    else:
        upright = _to_srgb(ImageOps.exif_transpose(frames[0]), icc)
        stored = [_clean(_still_for(fmt, _fit(upright, size)))]
        static = None
    try:
        encoded = _encode(stored, fmt)
    except (OSError, ValueError) as e:
        raise MediaRejected(f"File could not be converted: {e}") from None
    mime, ext = FORMATS[fmt]
    original = Rendition(encoded, mime, ext, stored[0].width, stored[0].height)
    return ProcessedImage(original, static or original, "")
