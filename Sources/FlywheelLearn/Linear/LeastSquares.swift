import Foundation

/// Solves (optionally ridge-penalized) least squares through a QR factorization followed by a
/// one-sided Jacobi SVD of the small triangular factor.
///
/// Working on the data itself (never forming XᵀX) keeps the condition number from squaring, and
/// the SVD gives, in one pass, the minimum-norm answer of a rank-deficient OLS problem (as
/// LAPACK's `gelsd` does) and the exact ridge answer `Σ vⱼ (uⱼᵀb) σⱼ / (σⱼ² + α)`.
enum LeastSquares {
    /// `a` is `rows × columns`, column-major; returns `w` minimizing ‖a·w − b‖² + α‖w‖².
    /// When `alpha == 0`, singular values below `eps · max(rows, columns) · σ_max` are treated as
    /// zero (NumPy's and SciPy's `lstsq` default cut-off).
    static func solve(columnMajor a: [Double], rows: Int, columns: Int, rhs b: [Double], alpha: Double) -> [Double] {
        let p = columns
        guard p > 0 else { return [] }
        let m = min(rows, p)
        var qa = a
        var qb = b
        // Householder QR: after step k, column k below the diagonal is zero.
        qa.withUnsafeMutableBufferPointer { A in
            qb.withUnsafeMutableBufferPointer { B in
                for k in 0..<m {
                    let base = k * rows
                    var norm = 0.0
                    for i in k..<rows { norm += A[base + i] * A[base + i] }
                    norm = norm.squareRoot()
                    if norm == 0 { continue }
                    let alphaK = A[base + k] > 0 ? -norm : norm
                    // v = x − αe₁, stored in place of column k's tail.
                    A[base + k] -= alphaK
                    var vnorm2 = 0.0
                    for i in k..<rows { vnorm2 += A[base + i] * A[base + i] }
                    if vnorm2 == 0 { A[base + k] = alphaK; continue }
                    for j in (k + 1)..<max(p, k + 1) {
                        let cb = j * rows
                        var dot = 0.0
                        for i in k..<rows { dot += A[base + i] * A[cb + i] }
                        let f = 2 * dot / vnorm2
                        for i in k..<rows { A[cb + i] -= f * A[base + i] }
                    }
                    var dot = 0.0
                    for i in k..<rows { dot += A[base + i] * B[i] }
                    let f = 2 * dot / vnorm2
                    for i in k..<rows { B[i] -= f * A[base + i] }
                    A[base + k] = alphaK
                    for i in (k + 1)..<max(rows, k + 1) { A[base + i] = 0 }
                }
            }
        }
        // R: m × p upper trapezoidal, column-major with leading dimension m.
        var r = [Double](repeating: 0, count: m * p)
        for j in 0..<p {
            for i in 0..<min(j + 1, m) { r[j * m + i] = qa[j * rows + i] }
        }
        let c = Array(qb[0..<m])
        // One-sided Jacobi: rotate columns of R (and of V = I) until they are mutually orthogonal;
        // then R·V = U·Σ, column j of R·V having norm σⱼ.
        var v = [Double](repeating: 0, count: p * p)
        for j in 0..<p { v[j * p + j] = 1 }
        let eps = Double.ulpOfOne
        r.withUnsafeMutableBufferPointer { R in
            v.withUnsafeMutableBufferPointer { V in
                for _ in 0..<100 {
                    var rotated = false
                    for i in 0..<p {
                        for j in (i + 1)..<max(p, i + 1) {
                            var aii = 0.0, ajj = 0.0, aij = 0.0
                            for k in 0..<m {
                                let x = R[i * m + k], y = R[j * m + k]
                                aii += x * x; ajj += y * y; aij += x * y
                            }
                            if aij == 0 || abs(aij) <= eps * (aii * ajj).squareRoot() { continue }
                            rotated = true
                            let zeta = (ajj - aii) / (2 * aij)
                            let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                            let cs = 1 / (1 + t * t).squareRoot()
                            let sn = cs * t
                            for k in 0..<m {
                                let x = R[i * m + k], y = R[j * m + k]
                                R[i * m + k] = cs * x - sn * y
                                R[j * m + k] = sn * x + cs * y
                            }
                            for k in 0..<p {
                                let x = V[i * p + k], y = V[j * p + k]
                                V[i * p + k] = cs * x - sn * y
                                V[j * p + k] = sn * x + cs * y
                            }
                        }
                    }
                    if !rotated { break }
                }
            }
        }
        var sigma2 = [Double](repeating: 0, count: p)
        var proj = [Double](repeating: 0, count: p)
        for j in 0..<p {
            var s = 0.0, d = 0.0
            for k in 0..<m { s += r[j * m + k] * r[j * m + k]; d += r[j * m + k] * c[k] }
            sigma2[j] = s
            proj[j] = d  // = σⱼ · uⱼᵀc
        }
        let sigmaMax = (sigma2.max() ?? 0).squareRoot()
        let cutoff = eps * Double(max(rows, p)) * sigmaMax
        var w = [Double](repeating: 0, count: p)
        for j in 0..<p {
            let denom: Double
            if alpha > 0 {
                denom = sigma2[j] + alpha
            } else {
                if sigma2[j].squareRoot() <= cutoff { continue }
                denom = sigma2[j]
            }
            let f = proj[j] / denom
            for k in 0..<p { w[k] += f * v[j * p + k] }
        }
        return w
    }
}
