//! What drives a result: a least-squares regression of the replications'
//! values on their drawn parameters (`docs/model.md`, "Plausible range and
//! the variance split" and "What drives the answer").

/// A regression of y on the standard normal deviates of the uncertain
/// values, with an intercept.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// Adjusted R squared, clamped to [0, 1]: the parameters' share of the
    /// variance of y.
    pub parameter_share: f64,
    /// Each parameter's coefficient: the change in y per standard deviation
    /// of its deviate.
    pub slopes: Vec<f64>,
    /// Standardised regression coefficients, `slope x sd(z) / sd(y)`.
    pub betas: Vec<f64>,
}

/// Fits y on the columns `z` (one per parameter, each as long as y). `None`
/// when there are too few replications (fewer than parameters + 3), y does
/// not vary, or the columns are collinear.
pub fn fit(y: &[f64], z: &[Vec<f64>]) -> Option<Fit> {
    let n = y.len();
    let p = z.len();
    if n < p + 3 || z.iter().any(|c| c.len() != n) {
        return None;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / n as f64;
    let sd = |v: &[f64]| {
        let m = mean(v);
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    };
    let sd_y = sd(y);
    if sd_y.is_nan() || sd_y <= 0.0 || !sd_y.is_finite() {
        return None;
    }
    // Centred columns make the intercept's row drop out: solve the p x p
    // normal equations of the centred data.
    let my = mean(y);
    let cz: Vec<Vec<f64>> = z
        .iter()
        .map(|c| {
            let m = mean(c);
            c.iter().map(|x| x - m).collect()
        })
        .collect();
    let cy: Vec<f64> = y.iter().map(|x| x - my).collect();
    let mut a = vec![vec![0.0; p + 1]; p];
    for i in 0..p {
        for j in 0..p {
            a[i][j] = cz[i].iter().zip(&cz[j]).map(|(x, y)| x * y).sum();
        }
        a[i][p] = cz[i].iter().zip(&cy).map(|(x, y)| x * y).sum();
    }
    let slopes = solve(a)?;
    let ss_tot: f64 = cy.iter().map(|x| x * x).sum();
    let ss_res: f64 = (0..n)
        .map(|r| {
            let fitted: f64 = (0..p).map(|k| slopes[k] * cz[k][r]).sum();
            (cy[r] - fitted).powi(2)
        })
        .sum();
    let r2 = 1.0 - ss_res / ss_tot;
    let adjusted = 1.0 - (1.0 - r2) * (n - 1) as f64 / (n - p - 1) as f64;
    let betas = slopes
        .iter()
        .zip(z)
        .map(|(b, c)| b * sd(c) / sd_y)
        .collect();
    Some(Fit {
        parameter_share: adjusted.clamp(0.0, 1.0),
        slopes,
        betas,
    })
}

/// Gaussian elimination with partial pivoting on the augmented matrix `a`
/// (p rows of p + 1); `None` when singular.
fn solve(mut a: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let p = a.len();
    let scale = a
        .iter()
        .enumerate()
        .map(|(i, r)| r[i].abs())
        .fold(0.0, f64::max);
    for col in 0..p {
        let pivot = (col..p).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs().is_nan() || a[pivot][col].abs() <= 1e-12 * scale {
            return None;
        }
        a.swap(col, pivot);
        let (upper, lower) = a.split_at_mut(col + 1);
        let pivot_row = &upper[col];
        for row in lower.iter_mut() {
            let f = row[col] / pivot_row[col];
            for (x, &y) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * y;
            }
        }
    }
    let mut x = vec![0.0; p];
    for row in (0..p).rev() {
        let s: f64 = (row + 1..p).map(|k| a[row][k] * x[k]).sum();
        x[row] = (a[row][p] - s) / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The indices of the parameters that drive a result most: those whose
/// beta squared is at least a quarter of the largest, largest first, at
/// most three.
pub fn main_drivers(betas: &[f64]) -> Vec<usize> {
    let most = betas.iter().map(|b| b * b).fold(0.0, f64::max);
    if most.is_nan() || most <= 0.0 {
        return Vec::new();
    }
    let mut idx: Vec<usize> = (0..betas.len())
        .filter(|&i| betas[i] * betas[i] >= 0.25 * most)
        .collect();
    idx.sort_by(|&i, &j| {
        (betas[j] * betas[j])
            .total_cmp(&(betas[i] * betas[i]))
            .then(i.cmp(&j))
    });
    idx.truncate(3);
    idx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::{StreamKey, StreamRng};

    fn normals(n: usize, tag: u64) -> Vec<f64> {
        let mut r = StreamRng::new(StreamKey(tag));
        (0..n)
            .map(|_| {
                let u1 = r.uniform().max(1e-300);
                let u2 = r.uniform();
                (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
            })
            .collect()
    }

    #[test]
    fn recovers_known_coefficients_and_share() {
        let n = 4000;
        let (z1, z2, z3, e) = (normals(n, 1), normals(n, 2), normals(n, 3), normals(n, 4));
        // y = 3 z1 + 1 z2 + 0 z3 + 2 e: variance 9 + 1 + 4 = 14.
        let y: Vec<f64> = (0..n)
            .map(|i| 5.0 + 3.0 * z1[i] + z2[i] + 2.0 * e[i])
            .collect();
        let f = fit(&y, &[z1, z2, z3]).expect("fits");
        assert!((f.slopes[0] - 3.0).abs() < 0.1, "{f:?}");
        assert!((f.slopes[1] - 1.0).abs() < 0.1, "{f:?}");
        assert!(f.slopes[2].abs() < 0.1, "{f:?}");
        assert!((f.parameter_share - 10.0 / 14.0).abs() < 0.03, "{f:?}");
        assert!((f.betas[0].powi(2) - 9.0 / 14.0).abs() < 0.04, "{f:?}");
        assert_eq!(main_drivers(&f.betas), vec![0]);
    }

    #[test]
    fn refuses_what_it_cannot_fit() {
        assert!(fit(&[1.0, 2.0, 3.0], &[vec![0.0, 1.0, 2.0]]).is_none());
        assert!(fit(&[1.0; 6], &[vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]]).is_none());
        let c = vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        assert!(fit(&[1.0, 3.0, 2.0, 5.0, 4.0, 6.0], &[c.clone(), c]).is_none());
    }
}
