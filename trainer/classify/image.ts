// Float images for classification: planar C x H x W values (BGR for colour, 0-255), resized the way
// OpenCV's cv::resize(INTER_LINEAR) does, and cut into crops. Pure: no decoding, no I/O.

/** A planar (C x H x W) float image. */
export interface FloatImage {
  channels: number;
  height: number;
  width: number;
  data: Float32Array;
}

/** Where one crop lies in an image, and whether it is flipped left to right. */
export interface CropPlacement {
  top: number;
  left: number;
  mirror: boolean;
}

/** Planar bytes (as trainer/data/images.ts decodes them) as floats 0-255. */
export function floatImage(pixels: ArrayLike<number>, channels: number, height: number, width: number) {
  const expected = channels * height * width;
  if (pixels.length !== expected) {
    throw new RangeError(
      `expected ${expected} values for ${channels}x${height}x${width}, received ${pixels.length}`,
    );
  }
  return { channels, height, width, data: Float32Array.from(pixels) };
}

/**
 * Bilinear resize with OpenCV's INTER_LINEAR conventions: pixel centres aligned (source coordinate
 * (d + 0.5) * in / out - 0.5), neighbours clamped at the borders, no anti-aliasing. That is the resize
 * convert_imageset used to make the training images and cpp_classification uses. Done on floats, so
 * nothing is rounded to bytes on the way (as in Caffe's Python classifier).
 */
export function resizeBilinear(image: FloatImage, height: number, width: number): FloatImage {
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) {
    throw new RangeError(`resize: expected a positive integer size, received ${height}x${width}`);
  }
  if (height === image.height && width === image.width) return { ...image, data: image.data.slice() };
  const rows = axisWeights(image.height, height);
  const cols = axisWeights(image.width, width);
  const out = new Float32Array(image.channels * height * width);
  const inArea = image.height * image.width;
  for (let c = 0; c < image.channels; c++) {
    const src = image.data.subarray(c * inArea, (c + 1) * inArea);
    let at = c * height * width;
    for (let y = 0; y < height; y++) {
      const row0 = rows.first[y]! * image.width;
      const row1 = rows.second[y]! * image.width;
      const fy = rows.fraction[y]!;
      for (let x = 0; x < width; x++) {
        const x0 = cols.first[x]!;
        const x1 = cols.second[x]!;
        const fx = cols.fraction[x]!;
        const top = src[row0 + x0]! * (1 - fx) + src[row0 + x1]! * fx;
        const bottom = src[row1 + x0]! * (1 - fx) + src[row1 + x1]! * fx;
        out[at++] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return { channels: image.channels, height, width, data: out };
}

/** Copies the crop at `placement` (mirrored if asked) into `out` at `offset`: C x height x width values. */
export function cropInto(
  image: FloatImage,
  placement: CropPlacement,
  height: number,
  width: number,
  out: Float32Array,
  offset: number,
): void {
  const { top, left, mirror } = placement;
  if (top < 0 || left < 0 || top + height > image.height || left + width > image.width) {
    throw new RangeError(
      `crop ${height}x${width} at (${top}, ${left}) does not fit in the ${image.height}x${image.width} image`,
    );
  }
  for (let c = 0; c < image.channels; c++) {
    for (let y = 0; y < height; y++) {
      const src = (c * image.height + top + y) * image.width + left;
      const dst = offset + (c * height + y) * width;
      for (let x = 0; x < width; x++) {
        out[mirror ? dst + width - 1 - x : dst + x] = image.data[src + x]!;
      }
    }
  }
}

/** The centre crop as a new image (offsets rounded down, as Caffe's TEST-phase crop). */
export function centreCrop(image: FloatImage, height: number, width: number): FloatImage {
  const data = new Float32Array(image.channels * height * width);
  cropInto(image, centrePlacement(image.height, image.width, height, width), height, width, data, 0);
  return { channels: image.channels, height, width, data };
}

export function centrePlacement(height: number, width: number, cropHeight: number, cropWidth: number) {
  return {
    top: Math.floor((height - cropHeight) / 2),
    left: Math.floor((width - cropWidth) / 2),
    mirror: false,
  };
}

/**
 * Caffe's oversample (python/caffe/io.py): the four corners (top-left, top-right, bottom-left,
 * bottom-right), the centre, then the same five mirrored.
 */
export function oversamplePlacements(
  height: number,
  width: number,
  cropHeight: number,
  cropWidth: number,
): CropPlacement[] {
  const bottom = height - cropHeight;
  const right = width - cropWidth;
  const five = [
    { top: 0, left: 0 },
    { top: 0, left: right },
    { top: bottom, left: 0 },
    { top: bottom, left: right },
    centrePlacement(height, width, cropHeight, cropWidth),
  ];
  return [
    ...five.map((p) => ({ top: p.top, left: p.left, mirror: false })),
    ...five.map((p) => ({ top: p.top, left: p.left, mirror: true })),
  ];
}

/** For each output index along one axis: the two source indices and the weight of the second. */
function axisWeights(inSize: number, outSize: number) {
  const first = new Int32Array(outSize);
  const second = new Int32Array(outSize);
  const fraction = new Float32Array(outSize);
  const scale = 1 / (outSize / inSize);
  for (let d = 0; d < outSize; d++) {
    // Caffe compat: OpenCV rounds the source position to float32 before splitting it into index and
    // weight; doing the same keeps us within float rounding of cv::resize on large images.
    const position = Math.fround((d + 0.5) * scale - 0.5);
    let index = Math.floor(position);
    let weight = Math.fround(position - index);
    if (index < 0) {
      index = 0;
      weight = 0;
    }
    if (index >= inSize - 1) {
      index = inSize - 1;
      weight = 0;
    }
    first[d] = index;
    second[d] = Math.min(index + 1, inSize - 1);
    fraction[d] = weight;
  }
  return { first, second, fraction };
}
