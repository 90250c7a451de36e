"""tconv's data streams in NumPy, for a twin that trains on exactly what `tconv train` trains
on (pairs_torch.py --init CKPT --tconv-streams): the epoch's shuffle (tools/dataset.c,
tc_shuffle_indices) and the noise of `--pairs noise:SIGMA` (tools/pairs.c, tc_noise_add).
Both are counter-based splitmix64 (tc_mix64), so they are reproduced bit for bit; the noise
goes through the same double-precision Box-Muller, whose log/cos may differ from glibc's in
the last bit of a double, which rounding to float hides but for rare ties."""
import numpy as np

GOLDEN = 0x9E3779B97F4A7C15
MASK = (1 << 64) - 1
NOISE_SALT = 0x6E6F697365  # "noise"
TEST_EPOCH = -1  # TC_PAIRS_TEST_EPOCH: the test set's noise slot


def mix64(seed, counter):
    """tc_mix64 on Python ints."""
    z = (seed + (counter + 1) * GOLDEN) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def mix64_np(seed, counter):
    """tc_mix64 on uint64 arrays (wrapping arithmetic), broadcast."""
    with np.errstate(over="ignore"):
        z = seed + (counter + np.uint64(1)) * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def shuffle(n, seed, epoch):
    """tc_shuffle_indices: Fisher-Yates from the top, each draw by rejection."""
    key, counter = mix64(seed & MASK, epoch), 0
    idx = list(range(n))
    for i in range(n - 1, 0, -1):
        bound = i + 1
        limit = MASK - MASK % bound
        while True:
            r = mix64(key, counter)
            counter += 1
            if r < limit:
                break
        j = r % bound
        idx[i], idx[j] = idx[j], idx[i]
    return np.array(idx, dtype=np.int64)


def noise_keys(seed, epoch, indices):
    """tc_noise_key for each image index of one epoch (TEST_EPOCH for the test set)."""
    inner = mix64((seed & MASK) ^ NOISE_SALT, (epoch + 1) & MASK)
    return mix64_np(np.uint64(inner), np.asarray(indices, dtype=np.uint64))


def add_noise(images, sigma, keys):
    """tc_noise_add: images (n, ...) float32 in tconv's element order per image (NHWC; the
    same as NCHW for one channel) plus sigma * N(0, 1) from each image's key."""
    n = images.shape[0]
    flat = images.reshape(n, -1).astype(np.float64)
    j = np.arange(flat.shape[1], dtype=np.uint64)
    k = keys.reshape(n, 1)
    r1 = mix64_np(k, np.uint64(2) * j)
    r2 = mix64_np(k, np.uint64(2) * j + np.uint64(1))
    u1 = ((r1 >> np.uint64(11)) + np.uint64(1)).astype(np.float64) * 2.0 ** -53
    u2 = (r2 >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    z = np.sqrt(-2.0 * np.log(u1)) * np.cos(6.283185307179586476925286766559 * u2)
    return (flat + sigma * z).astype(np.float32).reshape(images.shape)
