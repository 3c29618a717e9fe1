// Brewery's image codec: libjpeg(-turbo) with the settings OpenCV's imdecode and imencode use, so
// decoded pixels and encoded bytes are what Caffe's tools (convert_imageset, compute_image_mean,
// the Data layer) see. A Node-API addon; hack/native/codec.sh builds it into the cache.
//
//   decode(jpeg, out, gray) -> warnings      into `out`: interleaved BGR (or gray) bytes
//   decodeAsync(jpeg, out, gray) -> Promise<warnings>
//   encode(pixels, width, height, channels, quality) -> Buffer
//   encodeAsync(...) -> Promise<Buffer>
//   resizeRows(src, stride, srcHeight, channels, xFirst, xSecond, xW1, xW2, yRow, yW1, yW2, out)
//       the loops of resize.ts's bilinear resize; resize.ts computes the taps (OpenCV's maths)
//   transformInterleaved(hwc, channels, height, width, hOff, wOff, outHeight, outWidth, mirror,
//       scale, mean | null, meanValues, out, outOffset)
//       transform.ts's transformInterleavedInto: crop, mirror, mean subtraction and scale
//
// Caffe compat: like OpenCV, warnings (a truncated file, corrupt data libjpeg can skip) still give
// an image; only errors that leave none throw. The caller sizes `out` exactly, from the frame header.
//
// Every size taken from a file is checked before it sizes or indexes a buffer: the frame's width and
// height against MAX_PIXELS and against `out`, libjpeg's own allocations against a budget (a damaged
// progressive header would otherwise have it allocate whole-image coefficient arrays of any size),
// and the other calls' dimensions against the arrays they index.
#define NAPI_VERSION 8
#include <node_api.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

// images.ts's MAX_IMAGE_PIXELS (sharp's default limitInputPixels): no image decoded here is larger.
#define MAX_PIXELS ((size_t)0x3fff * 0x3fff)
// libjpeg's working memory beyond the output: twice the output (a progressive colour image's
// coefficients take about as much) and a fixed allowance for tables and row buffers.
#define WORK_MEMORY_ALLOWANCE ((size_t)64 << 20)

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf escape;
  int warnings;
  char message[JMSG_LENGTH_MAX];
} error_state;

static void on_error(j_common_ptr info) {
  error_state *state = (error_state *)info->err;
  (*info->err->format_message)(info, state->message);
  longjmp(state->escape, 1);
}

static void on_message(j_common_ptr info, int level) {
  if (level < 0) ((error_state *)info->err)->warnings++;  // counted, not printed
}

static void init_errors(error_state *state, j_common_ptr info) {
  info->err = jpeg_std_error(&state->pub);
  state->pub.error_exit = on_error;
  state->pub.emit_message = on_message;
  state->warnings = 0;
  state->message[0] = 0;
}

// --- the work, free of Node-API so it can run on a pool thread ---

// OpenCV's CMYK conversion (modules/imgcodecs/src/utils.cpp, icvCvt_CMYK2BGR_8u_C4C3R and
// icvCvt_CMYK2Gray_8u_C4C1R): each of C, M, Y as libjpeg gives them (Adobe's inverted values) becomes
// k - ((255 - v) * k >> 8), for R, G and B; gray is then OpenCV's fixed-point 0.299/0.587/0.114 with
// 14 fractional bits, rounded. Checked pixel for pixel against cv::imread.
static void cmyk_to_bgr(const unsigned char *cmyk, unsigned char *out, unsigned width, int gray) {
  for (unsigned x = 0; x < width; x++, cmyk += 4) {
    int k = cmyk[3];
    int r = k - ((255 - cmyk[0]) * k >> 8);
    int g = k - ((255 - cmyk[1]) * k >> 8);
    int b = k - ((255 - cmyk[2]) * k >> 8);
    if (gray) {
      *out++ = (unsigned char)((b * 1868 + g * 9617 + r * 4899 + (1 << 13)) >> 14);
    } else {
      *out++ = (unsigned char)b;
      *out++ = (unsigned char)g;
      *out++ = (unsigned char)r;
    }
  }
}

typedef struct {
  const unsigned char *src;
  size_t src_size;
  unsigned char *out;
  size_t out_size;
  int gray;
  int warnings;
  char error[JMSG_LENGTH_MAX + 64];
} decode_job;

static void run_decode(decode_job *job) {
  struct jpeg_decompress_struct info;
  error_state state;
  init_errors(&state, (j_common_ptr)&info);
  if (setjmp(state.escape)) {
    snprintf(job->error, sizeof job->error, "%s", state.message);
    jpeg_destroy_decompress(&info);
    return;
  }
  jpeg_create_decompress(&info);
  info.mem->max_memory_to_use = (long)(2 * job->out_size + WORK_MEMORY_ALLOWANCE);
  jpeg_mem_src(&info, job->src, (unsigned long)job->src_size);
  jpeg_read_header(&info, TRUE);
  if (info.image_width == 0 || info.image_height == 0 ||
      (size_t)info.image_width * info.image_height > MAX_PIXELS) {
    snprintf(job->error, sizeof job->error, "the JPEG header says %ux%u: not an image this decoder takes",
             info.image_width, info.image_height);
    jpeg_destroy_decompress(&info);
    return;
  }
  // OpenCV: gray output for IMREAD_GRAYSCALE, BGR otherwise; the default (islow) IDCT and fancy
  // upsampling. CMYK and YCCK come out of libjpeg as CMYK, converted as OpenCV's JPEG decoder does
  // (cmyk_to_bgr below).
  int cmyk = info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK;
  info.out_color_space = cmyk ? JCS_CMYK : job->gray ? JCS_GRAYSCALE : JCS_EXT_BGR;
  jpeg_start_decompress(&info);
  int channels = cmyk ? (job->gray ? 1 : 3) : info.output_components;
  size_t stride = (size_t)info.output_width * channels;
  // Exactly the size the caller expects from the frame header: anything else is a file to leave to
  // another decoder, not pixels to guess at.
  if (stride * info.output_height != job->out_size || (cmyk && info.output_components != 4)) {
    snprintf(job->error, sizeof job->error, "the image is %ux%ux%d, not the %zu bytes of the output buffer",
             info.output_width, info.output_height, channels, job->out_size);
    jpeg_destroy_decompress(&info);
    return;
  }
  // libjpeg's own pool holds the CMYK row, so an error's longjmp frees it with the rest.
  JSAMPARRAY cmyk_row =
      cmyk ? (*info.mem->alloc_sarray)((j_common_ptr)&info, JPOOL_IMAGE, info.output_width * 4, 1) : NULL;
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = job->out + stride * info.output_scanline;
    // A memory source never suspends; a call that reads no line would otherwise loop for ever.
    if (jpeg_read_scanlines(&info, cmyk ? cmyk_row : &row, 1) != 1) {
      snprintf(job->error, sizeof job->error, "libjpeg read no line at row %u", info.output_scanline);
      jpeg_destroy_decompress(&info);
      return;
    }
    if (cmyk) cmyk_to_bgr(cmyk_row[0], row, info.output_width, job->gray);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  job->warnings = state.warnings;
}

typedef struct {
  const unsigned char *pixels;
  int width, height, channels, quality;
  unsigned char *jpeg;  // malloc'd by libjpeg's memory destination
  unsigned long jpeg_size;
  char error[JMSG_LENGTH_MAX + 64];
} encode_job;

static void run_encode(encode_job *job) {
  struct jpeg_compress_struct info;
  error_state state;
  init_errors(&state, (j_common_ptr)&info);
  if (setjmp(state.escape)) {
    snprintf(job->error, sizeof job->error, "%s", state.message);
    jpeg_destroy_compress(&info);
    return;
  }
  jpeg_create_compress(&info);
  jpeg_mem_dest(&info, &job->jpeg, &job->jpeg_size);
  info.image_width = job->width;
  info.image_height = job->height;
  info.input_components = job->channels;
  info.in_color_space = job->channels == 1 ? JCS_GRAYSCALE : JCS_EXT_BGR;
  // OpenCV's imencode: libjpeg's defaults (4:2:0, islow DCT, standard Huffman tables) and the quality.
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, job->quality, TRUE);
  jpeg_start_compress(&info, TRUE);
  size_t stride = (size_t)job->width * job->channels;
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = (JSAMPROW)(job->pixels + stride * info.next_scanline);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
}

// --- Node-API glue ---

#define CHECK(call)                                                       \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      napi_throw_error(env, NULL, "codec addon: Node-API call failed");    \
      return NULL;                                                        \
    }                                                                     \
  } while (0)

// The data and element count of a typed array of type `want`; 0 for anything else.
static int typed_array_of(napi_env env, napi_value value, napi_typedarray_type want, void *data, size_t *length) {
  bool is_typed;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  return napi_get_typedarray_info(env, value, &type, length, (void **)data, &buffer, &offset) == napi_ok &&
         type == want;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref refs[2];  // keep the caller's buffers alive while a pool thread uses them
  int ref_count;
  int is_encode;
  decode_job decode;
  encode_job encode;
} async_call;

static napi_value finish_encode(napi_env env, encode_job *job) {
  napi_value result;
  void *data;
  if (napi_create_buffer_copy(env, job->jpeg_size, job->jpeg, &data, &result) != napi_ok) result = NULL;
  free(job->jpeg);
  return result;
}

static napi_value error_value(napi_env env, const char *message) {
  napi_value text, error;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, NULL, text, &error);
  return error;
}

static void execute_call(napi_env env, void *data) {
  async_call *call = data;
  if (call->is_encode) run_encode(&call->encode);
  else run_decode(&call->decode);
}

static void complete_call(napi_env env, napi_status status, void *data) {
  async_call *call = data;
  const char *error = call->is_encode ? call->encode.error : call->decode.error;
  if (error[0]) {
    if (call->is_encode) free(call->encode.jpeg);
    napi_reject_deferred(env, call->deferred, error_value(env, error));
  } else if (call->is_encode) {
    napi_resolve_deferred(env, call->deferred, finish_encode(env, &call->encode));
  } else {
    napi_value warnings;
    napi_create_int32(env, call->decode.warnings, &warnings);
    napi_resolve_deferred(env, call->deferred, warnings);
  }
  for (int i = 0; i < call->ref_count; i++) napi_delete_reference(env, call->refs[i]);
  napi_delete_async_work(env, call->work);
  free(call);
}

static napi_value start_async(napi_env env, async_call *call, napi_value *keep, int keep_count) {
  napi_value promise, name;
  for (int i = 0; i < keep_count; i++) napi_create_reference(env, keep[i], 1, &call->refs[i]);
  call->ref_count = keep_count;
  CHECK(napi_create_promise(env, &call->deferred, &promise));
  CHECK(napi_create_string_utf8(env, "brewery-codec", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, execute_call, complete_call, call, &call->work));
  CHECK(napi_queue_async_work(env, call->work));
  return promise;
}

static int read_decode_args(napi_env env, napi_callback_info cb, decode_job *job, napi_value *argv) {
  size_t argc = 3;
  bool gray = false;
  void *src, *out;
  memset(job, 0, sizeof *job);
  if (napi_get_cb_info(env, cb, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      !typed_array_of(env, argv[0], napi_uint8_array, &src, &job->src_size) || !typed_array_of(env, argv[1], napi_uint8_array, &out, &job->out_size) ||
      napi_get_value_bool(env, argv[2], &gray) != napi_ok) {
    napi_throw_type_error(env, NULL, "decode(jpeg: Uint8Array, out: Uint8Array, gray: boolean)");
    return 0;
  }
  job->src = src;
  job->out = out;
  job->gray = gray;
  return 1;
}

static int read_encode_args(napi_env env, napi_callback_info cb, encode_job *job, napi_value *argv) {
  size_t argc = 5;
  void *pixels;
  size_t size;
  memset(job, 0, sizeof *job);
  if (napi_get_cb_info(env, cb, &argc, argv, NULL, NULL) != napi_ok || argc < 5 ||
      !typed_array_of(env, argv[0], napi_uint8_array, &pixels, &size) || napi_get_value_int32(env, argv[1], &job->width) != napi_ok ||
      napi_get_value_int32(env, argv[2], &job->height) != napi_ok ||
      napi_get_value_int32(env, argv[3], &job->channels) != napi_ok ||
      napi_get_value_int32(env, argv[4], &job->quality) != napi_ok) {
    napi_throw_type_error(env, NULL, "encode(pixels: Uint8Array, width, height, channels, quality)");
    return 0;
  }
  if ((job->channels != 1 && job->channels != 3) || job->width <= 0 || job->height <= 0 ||
      (size_t)job->width * job->height * job->channels > size || job->quality < 0 || job->quality > 100) {
    napi_throw_range_error(env, NULL, "encode: channels must be 1 or 3, quality 0-100, and the pixels fill width x height");
    return 0;
  }
  job->pixels = pixels;
  return 1;
}

static napi_value decode(napi_env env, napi_callback_info cb) {
  decode_job job;
  napi_value argv[3], result;
  if (!read_decode_args(env, cb, &job, argv)) return NULL;
  run_decode(&job);
  if (job.error[0]) {
    napi_throw_error(env, NULL, job.error);
    return NULL;
  }
  CHECK(napi_create_int32(env, job.warnings, &result));
  return result;
}

static napi_value decode_async(napi_env env, napi_callback_info cb) {
  async_call *call = calloc(1, sizeof *call);
  napi_value argv[3];
  if (!call) return NULL;
  if (!read_decode_args(env, cb, &call->decode, argv)) {
    free(call);
    return NULL;
  }
  return start_async(env, call, argv, 2);
}

static napi_value encode(napi_env env, napi_callback_info cb) {
  encode_job job;
  napi_value argv[5];
  if (!read_encode_args(env, cb, &job, argv)) return NULL;
  run_encode(&job);
  if (job.error[0]) {
    free(job.jpeg);
    napi_throw_error(env, NULL, job.error);
    return NULL;
  }
  return finish_encode(env, &job);
}

static napi_value encode_async(napi_env env, napi_callback_info cb) {
  async_call *call = calloc(1, sizeof *call);
  napi_value argv[5];
  if (!call) return NULL;
  call->is_encode = 1;
  if (!read_encode_args(env, cb, &call->encode, argv)) {
    free(call);
    return NULL;
  }
  return start_async(env, call, argv, 1);
}

// --- bilinear resize: the two passes of resize.ts, over taps it computed ---

static void resize_row(const unsigned char *src, int channels, const int32_t *first, const int32_t *second,
                       const int32_t *w1, const int32_t *w2, size_t width, int32_t *into) {
  if (channels == 3) {  // the common case, unrolled
    for (size_t x = 0; x < width; x++, into += 3) {
      const unsigned char *p = src + first[x], *q = src + second[x];
      int32_t a = w1[x], b = w2[x];
      into[0] = p[0] * a + q[0] * b;
      into[1] = p[1] * a + q[1] * b;
      into[2] = p[2] * a + q[2] * b;
    }
    return;
  }
  for (size_t x = 0, o = 0; x < width; x++) {
    const unsigned char *p = src + first[x], *q = src + second[x];
    for (int k = 0; k < channels; k++, o++) into[o] = p[k] * w1[x] + q[k] * w2[x];
  }
}

static int clamp_row(int row, int height) { return row < 0 ? 0 : row >= height ? height - 1 : row; }

static napi_value resize_rows(napi_env env, napi_callback_info cb) {
  size_t argc = 12;
  napi_value argv[12];
  void *src, *out;
  size_t src_size, out_size, width, height, n;
  int32_t stride, src_height, channels, *x_first, *x_second, *x_w1, *x_w2, *y_row, *y_w1, *y_w2;
  int ok = napi_get_cb_info(env, cb, &argc, argv, NULL, NULL) == napi_ok && argc == 12 &&
           typed_array_of(env, argv[0], napi_uint8_array, &src, &src_size) && napi_get_value_int32(env, argv[1], &stride) == napi_ok &&
           napi_get_value_int32(env, argv[2], &src_height) == napi_ok &&
           napi_get_value_int32(env, argv[3], &channels) == napi_ok && typed_array_of(env, argv[4], napi_int32_array, &x_first, &width) &&
           typed_array_of(env, argv[5], napi_int32_array, &x_second, &n) && n == width && typed_array_of(env, argv[6], napi_int32_array, &x_w1, &n) &&
           n == width && typed_array_of(env, argv[7], napi_int32_array, &x_w2, &n) && n == width &&
           typed_array_of(env, argv[8], napi_int32_array, &y_row, &height) && typed_array_of(env, argv[9], napi_int32_array, &y_w1, &n) && n == height &&
           typed_array_of(env, argv[10], napi_int32_array, &y_w2, &n) && n == height && typed_array_of(env, argv[11], napi_uint8_array, &out, &out_size);
  size_t row_values = width * (size_t)channels;
  if (!ok || channels < 1 || src_height < 1 || stride < channels || (size_t)stride * src_height > src_size ||
      out_size < row_values * height) {
    napi_throw_type_error(env, NULL, "resizeRows: arguments do not describe a resize");
    return NULL;
  }
  for (size_t x = 0; x < width; x++) {
    if (x_first[x] < 0 || x_second[x] < 0 || x_first[x] + channels > stride || x_second[x] + channels > stride) {
      napi_throw_range_error(env, NULL, "resizeRows: a tap is outside the source row");
      return NULL;
    }
  }
  int32_t *upper = malloc(row_values * sizeof(int32_t)), *lower = malloc(row_values * sizeof(int32_t));
  if (!upper || !lower) {
    free(upper);
    free(lower);
    napi_throw_error(env, NULL, "resizeRows: out of memory");
    return NULL;
  }
  const unsigned char *pixels = src;
  unsigned char *dst = out;
  int upper_row = -1, lower_row = -1;
  for (size_t y = 0; y < height; y++) {
    int y0 = clamp_row(y_row[y], src_height), y1 = clamp_row(y_row[y] + 1, src_height);
    if (y0 != upper_row) {
      if (y0 == lower_row) {
        int32_t *t = upper;
        upper = lower;
        lower = t;
        lower_row = -1;
      } else {
        resize_row(pixels + (size_t)y0 * stride, channels, x_first, x_second, x_w1, x_w2, width, upper);
      }
      upper_row = y0;
    }
    if (y1 != lower_row) {
      if (y1 == upper_row) memcpy(lower, upper, row_values * sizeof(int32_t));
      else resize_row(pixels + (size_t)y1 * stride, channels, x_first, x_second, x_w1, x_w2, width, lower);
      lower_row = y1;
    }
    int32_t a = y_w1[y], b = y_w2[y];
    unsigned char *row = dst + y * row_values;
    for (size_t i = 0; i < row_values; i++)
      row[i] = (unsigned char)(((((upper[i] >> 4) * a) >> 16) + (((lower[i] >> 4) * b) >> 16) + 2) >> 2);
  }
  free(upper);
  free(lower);
  return NULL;
}

// --- Caffe's DataTransformer over interleaved bytes, as transform.ts's transformInterleavedInto ---

static napi_value transform_interleaved(napi_env env, napi_callback_info cb) {
  size_t argc = 14, hwc_size, mean_size = 0, values_size, out_size;
  napi_value argv[14];
  void *hwc_data;
  float *mean = NULL, *out;
  double *values, scale;
  int32_t channels, height, width, h_off, w_off, out_height, out_width, out_offset;
  bool mirror, ok;
  napi_valuetype mean_type;
  ok = napi_get_cb_info(env, cb, &argc, argv, NULL, NULL) == napi_ok && argc == 14 &&
       typed_array_of(env, argv[0], napi_uint8_array, &hwc_data, &hwc_size) && napi_get_value_int32(env, argv[1], &channels) == napi_ok &&
       napi_get_value_int32(env, argv[2], &height) == napi_ok && napi_get_value_int32(env, argv[3], &width) == napi_ok &&
       napi_get_value_int32(env, argv[4], &h_off) == napi_ok && napi_get_value_int32(env, argv[5], &w_off) == napi_ok &&
       napi_get_value_int32(env, argv[6], &out_height) == napi_ok &&
       napi_get_value_int32(env, argv[7], &out_width) == napi_ok && napi_get_value_bool(env, argv[8], &mirror) == napi_ok &&
       napi_get_value_double(env, argv[9], &scale) == napi_ok && napi_typeof(env, argv[10], &mean_type) == napi_ok &&
       (mean_type == napi_null || typed_array_of(env, argv[10], napi_float32_array, &mean, &mean_size)) &&
       typed_array_of(env, argv[11], napi_float64_array, &values, &values_size) && typed_array_of(env, argv[12], napi_float32_array, &out, &out_size) &&
       napi_get_value_int32(env, argv[13], &out_offset) == napi_ok;
  size_t area = (size_t)height * width;
  if (!ok || channels < 1 || height < 1 || width < 1 || out_height < 0 || out_width < 0 || h_off < 0 || w_off < 0 || h_off + out_height > height || w_off + out_width > width ||
      hwc_size < area * channels || (mean && mean_size < area * channels) ||
      (values_size != 0 && values_size != 1 && values_size != (size_t)channels) || out_offset < 0 ||
      out_size < (size_t)out_offset + (size_t)channels * out_height * out_width) {
    napi_throw_type_error(env, NULL, "transformInterleaved: arguments do not describe a transform");
    return NULL;
  }
  const unsigned char *hwc = hwc_data;
  for (int c = 0; c < channels; c++) {
    double channel_mean = values_size == 0 ? 0 : values_size == 1 ? values[0] : values[c];
    for (int h = 0; h < out_height; h++) {
      const unsigned char *src = hwc + ((size_t)(h + h_off) * width + w_off) * channels + c;
      const float *m = mean ? mean + ((size_t)c * height + h + h_off) * width + w_off : NULL;
      float *dst = out + out_offset + ((size_t)c * out_height + h) * out_width;
      // As JavaScript computes it: the difference and product in double, one rounding to float.
      if (mirror) {
        if (m) for (int w = 0; w < out_width; w++) dst[out_width - 1 - w] = (float)((src[w * channels] - (double)m[w]) * scale);
        else for (int w = 0; w < out_width; w++) dst[out_width - 1 - w] = (float)((src[w * channels] - channel_mean) * scale);
      } else {
        if (m) for (int w = 0; w < out_width; w++) dst[w] = (float)((src[w * channels] - (double)m[w]) * scale);
        else for (int w = 0; w < out_width; w++) dst[w] = (float)((src[w * channels] - channel_mean) * scale);
      }
    }
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"decode", NULL, decode, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decodeAsync", NULL, decode_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encode", NULL, encode, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encodeAsync", NULL, encode_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"resizeRows", NULL, resize_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      {"transformInterleaved", NULL, transform_interleaved, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_value version;
  napi_create_int32(env, LIBJPEG_TURBO_VERSION_NUMBER, &version);
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  napi_set_named_property(env, exports, "libjpegTurboVersion", version);
  return exports;
}

NAPI_MODULE(brewery_codec, init)
