import Foundation

/// Limited-memory BFGS with an Armijo backtracking line search, for smooth convex objectives
/// (the logistic losses here): on a strictly convex function every step satisfies the curvature
/// condition sᵀy > 0, so the simple line search keeps the inverse-Hessian estimate positive definite.
struct LBFGS {
    var memory = 10
    var maxIterations = 100
    /// Stop when the largest absolute gradient component is at most this (SciPy's `pgtol`).
    var gradientTolerance = 1e-4
    /// Stop when the relative decrease of the objective falls below this (SciPy's `ftol`).
    var functionTolerance = 64 * Double.ulpOfOne

    struct Result {
        var x: [Double]
        var value: Double
        var iterations: Int
        var converged: Bool
    }

    /// `objective(x, &gradient)` returns f(x) and writes ∇f(x) into `gradient`.
    func minimize(from start: [Double], _ objective: ([Double], inout [Double]) -> Double) -> Result {
        let n = start.count
        var x = start
        var g = [Double](repeating: 0, count: n)
        var f = objective(x, &g)
        var sHistory: [[Double]] = []
        var yHistory: [[Double]] = []
        var rhoHistory: [Double] = []
        var iterations = 0
        var converged = false
        var gNew = [Double](repeating: 0, count: n)
        var xNew = [Double](repeating: 0, count: n)
        while iterations < maxIterations {
            if (g.map(abs).max() ?? 0) <= gradientTolerance { converged = true; break }
            iterations += 1
            // Two-loop recursion: d = −H·g.
            var q = g
            var alphas = [Double](repeating: 0, count: sHistory.count)
            for i in stride(from: sHistory.count - 1, through: 0, by: -1) {
                let a = rhoHistory[i] * dot(sHistory[i], q)
                alphas[i] = a
                axpy(-a, yHistory[i], &q)
            }
            if let s = sHistory.last, let y = yHistory.last {
                let gamma = dot(s, y) / dot(y, y)
                for i in 0..<n { q[i] *= gamma }
            } else {
                // First step: a unit-length move along the steepest descent.
                let norm = dot(g, g).squareRoot()
                if norm > 0 { for i in 0..<n { q[i] /= norm } }
            }
            for i in 0..<sHistory.count {
                let b = rhoHistory[i] * dot(yHistory[i], q)
                axpy(alphas[i] - b, sHistory[i], &q)
            }
            var d = q.map { -$0 }
            var slope = dot(g, d)
            if !(slope < 0) {
                sHistory.removeAll(); yHistory.removeAll(); rhoHistory.removeAll()
                d = g.map { -$0 }
                slope = -dot(g, g)
            }
            var t = 1.0
            var fNew = f
            var accepted = false
            for _ in 0..<60 {
                for i in 0..<n { xNew[i] = x[i] + t * d[i] }
                fNew = objective(xNew, &gNew)
                if fNew.isFinite && fNew <= f + 1e-4 * t * slope { accepted = true; break }
                t *= 0.5
            }
            if !accepted { break }
            var s = [Double](repeating: 0, count: n)
            var y = [Double](repeating: 0, count: n)
            for i in 0..<n { s[i] = xNew[i] - x[i]; y[i] = gNew[i] - g[i] }
            let sy = dot(s, y)
            if sy > 1e-12 * dot(y, y).squareRoot() * dot(s, s).squareRoot() && sy > 0 {
                if sHistory.count == memory {
                    sHistory.removeFirst(); yHistory.removeFirst(); rhoHistory.removeFirst()
                }
                sHistory.append(s); yHistory.append(y); rhoHistory.append(1 / sy)
            }
            let decrease = f - fNew
            x = xNew
            g = gNew
            let previous = f
            f = fNew
            // The objective no longer moves (SciPy counts this as convergence too).
            if decrease <= functionTolerance * max(abs(previous), abs(f), 1) {
                converged = true
                break
            }
        }
        return Result(x: x, value: f, iterations: iterations, converged: converged)
    }

    private func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in 0..<a.count { s += a[i] * b[i] }
        return s
    }

    private func axpy(_ a: Double, _ x: [Double], _ y: inout [Double]) {
        for i in 0..<x.count { y[i] += a * x[i] }
    }
}
