"""Statistical inefficiency of correlated time series, with pymbar's ``timeseries`` estimators.

The statistical inefficiency g = 1 + 2 sum_t (1 - t / N) C(t) is about the number of frames per
independent sample (dimensionless, at least 1). pymbar sums the normalised autocorrelation C(t)
up to the first lag where it is no longer positive. Used by MBAR's decorrelation
(:mod:`thermogen.analysis.mbar`) and by the block length of the population bootstrap
(:mod:`thermogen.analysis.populations`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from thermogen.analysis._pymbar import pymbar

__all__ = ["statistical_inefficiency"]


def statistical_inefficiency(series: Sequence[np.ndarray]) -> float:
    """Statistical inefficiency of one observable sampled as M independent time series.

    One series goes to ``pymbar.timeseries.statistical_inefficiency``; several to
    ``statistical_inefficiency_multiple``, which pools their autocorrelation functions around
    the mean of all frames.

    Parameters
    ----------
    series
        M arrays of shape (L_m,), each the observable along one time series in time order.

    Returns
    -------
    float
        g >= 1; 1.0 when there are fewer than 3 frames or the observable never changes.
    """
    arrays = [np.asarray(s, dtype=float) for s in series]
    values = np.concatenate(arrays)
    if values.size < 3 or np.ptp(values) == 0:
        return 1.0
    if len(arrays) == 1:
        return float(pymbar.timeseries.statistical_inefficiency(arrays[0]))
    return float(pymbar.timeseries.statistical_inefficiency_multiple(arrays))
