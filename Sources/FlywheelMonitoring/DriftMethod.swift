/// A drift statistic Flywheel computes between a reference and a current sample of one column.
public enum DriftMethod: String, Hashable, Codable, Sendable, CaseIterable {
    /// Two-sample Kolmogorov–Smirnov test; the score is the p-value (drift when below the threshold).
    case ks
    /// Pearson's chi-square goodness of fit of current counts to reference proportions; p-value.
    case chisquare
    /// Two-proportion z-test (two categories); p-value.
    case z
    /// Wasserstein-1 distance divided by the reference's population standard deviation.
    case wasserstein
    /// Jensen–Shannon distance (natural log) on Evidently's bins.
    case jensenshannon
    /// Kullback–Leibler divergence of reference from current proportions, on Evidently's bins with empty bins filled.
    case kl = "kl_div"
    /// Population Stability Index on Evidently's bins with empty bins filled.
    case psi
    /// Hellinger distance on Evidently's bins.
    case hellinger
    /// L-infinity distance between category proportions (the TFDV / Vertex AI skew measure).
    case linf = "l_infinity"
    /// PSI on the reference's deciles (the credit-risk convention).
    case psiDeciles = "psi_deciles"

    /// Whether the score is a p-value (drift when it is *below* the threshold) rather than a distance.
    public var isPValue: Bool { self == .ks || self == .chisquare || self == .z }
}
