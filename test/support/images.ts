// Images for tests that compare decoders: photo-like RGB with saturated colours and noise, so every
// gray, CMYK and JPEG path has work to do.
import { Rng } from '../../trainer/rng.js';

/** Interleaved RGB bytes, width x height, from Rng(seed). */
export function rgbPhoto(width: number, height: number, seed: number): Buffer {
  const rng = new Rng(seed);
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      pixels[p] = (x * 9 + rng.nextInt(40)) % 256;
      pixels[p + 1] = (y * 7 + rng.nextInt(40)) % 256;
      pixels[p + 2] = x < width / 2 ? (x * y) % 256 : rng.nextInt(256);
    }
  }
  return pixels;
}
