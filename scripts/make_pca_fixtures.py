#!/usr/bin/env python3
"""Regenerates the PCA fixtures read by Tests/PointwiseTests/Analysis/PCATests.swift.

Run with NumPy and scikit-learn installed:  python3 scripts/make_pca_fixtures.py
Writes Tests/PointwiseTests/Fixtures/pca/:
  x.npy                         float32 [4, 6, 8, 8]: correlated channels (3 latent factors, noise, offsets)
  mean.npy                      float64 [6]
  components.npy                float64 [6, 6]: sklearn's PCA().components_ (rows, svd_flip signs)
  explained_variance.npy        float64 [6]: sklearn's explained_variance_ (denominator n - 1)
  explained_variance_ratio.npy  float64 [6]
  reconstruction_mse_k3.npy     float64 []: mean((X - X̂)²) over every element, X̂ from NumPy's SVD, K = 3
Every pixel of every image is one sample (the channel vectors of X.transpose(0, 2, 3, 1)).
"""
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

OUT = Path(__file__).resolve().parent.parent / "Tests" / "PointwiseTests" / "Fixtures" / "pca"
N, C, H, W, LATENT, K = 4, 6, 8, 8, 3, 3


def dataset(rng):
    """Pixels x = z·A + noise + offset, z ~ N(0, diag(3, 1.5, 0.7)): a clear spectrum with a tail."""
    z = rng.standard_normal((N * H * W, LATENT)) * np.array([3.0, 1.5, 0.7])
    mixing = rng.standard_normal((LATENT, C))
    pixels = z @ mixing + 0.1 * rng.standard_normal((N * H * W, C)) + np.linspace(-2, 3, C)
    return pixels.reshape(N, H, W, C).transpose(0, 3, 1, 2).astype(np.float32)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    x = dataset(np.random.default_rng(7))
    samples = x.transpose(0, 2, 3, 1).reshape(-1, C).astype(np.float64)

    pca = PCA(svd_solver="full").fit(samples)

    # NumPy's SVD-based PCA, independent of scikit-learn, for the reconstruction error.
    mean = samples.mean(axis=0)
    _, s, vt = np.linalg.svd(samples - mean, full_matrices=False)
    top = vt[:K]
    reconstructed = (samples - mean) @ top.T @ top + mean
    mse = np.mean((samples - reconstructed) ** 2)
    assert np.allclose(np.abs(top), np.abs(pca.components_[:K]), atol=1e-10)
    assert np.allclose(s**2 / (len(samples) - 1), pca.explained_variance_, rtol=1e-10)

    np.save(OUT / "x.npy", x)
    np.save(OUT / "mean.npy", pca.mean_)
    np.save(OUT / "components.npy", np.ascontiguousarray(pca.components_))
    np.save(OUT / "explained_variance.npy", pca.explained_variance_)
    np.save(OUT / "explained_variance_ratio.npy", pca.explained_variance_ratio_)
    np.save(OUT / "reconstruction_mse_k3.npy", np.float64(mse))
    print("explained variance", pca.explained_variance_, "mse k=3", mse)


if __name__ == "__main__":
    main()
