import FlywheelCore
import Foundation

/// What a chart's x axis measures.
enum ChartX: String, Sendable, CaseIterable {
    case step, wall, relative
}

/// A chart's settings as they sit in the URL.
struct ChartOptions: Sendable {
    var x: ChartX = .step
    var logY = false

    init() {}
    init(_ r: UIRequest) {
        x = r.value("x").flatMap(ChartX.init(rawValue:)) ?? .step
        logY = r.value("log") == "1"
    }

    var query: [(String, String)] {
        [("x", x == .step ? "" : x.rawValue), ("log", logY ? "1" : "")]
    }
}

/// One series reduced to at most one column of pixels per bucket: each bucket keeps its minimum
/// and its maximum (in the order they occurred), so every spike survives however many points
/// the series has, and the drawing costs a few kilobytes.
struct Downsampled: Sendable {
    struct Bucket: Sendable, Equatable {
        var x0: Double, x1: Double
        var min: Double, max: Double
        /// Whether the minimum came before the maximum (the line is drawn through them in time order).
        var minFirst: Bool
        var count: Int
    }
    var buckets: [Bucket]
    var points: Int
    var xRange: ClosedRange<Double>
    var yRange: ClosedRange<Double>

    /// `xs` ascending; NaN and infinite values are skipped (they are counted in `points`).
    init(xs: [Double], ys: [Double], buckets n: Int, logY: Bool) {
        points = xs.count
        var first = Double.nan
        var last = Double.nan
        for (x, y) in zip(xs, ys) where y.isFinite && (!logY || y > 0) {
            if first.isNaN { first = x }
            last = x
        }
        guard !first.isNaN else {
            buckets = []
            xRange = 0...1
            yRange = 0...1
            return
        }
        let span = last - first
        let width = span > 0 ? span / Double(n) : 1
        var out: [Bucket] = []
        out.reserveCapacity(min(n, xs.count))
        var lo = Double.infinity
        var hi = -Double.infinity
        for i in xs.indices {
            var y = ys[i]
            guard y.isFinite, !logY || y > 0 else { continue }
            if logY { y = log10(y) }
            let x = xs[i]
            let b = span > 0 ? min(Int((x - first) / width), n - 1) : 0
            let bx0 = first + Double(b) * width
            if var cur = out.last, cur.x0 == bx0 {
                if y < cur.min {
                    cur.min = y
                    cur.minFirst = false
                }
                if y > cur.max {
                    cur.max = y
                    cur.minFirst = true
                }
                cur.count += 1
                out[out.count - 1] = cur
            } else {
                out.append(Bucket(x0: bx0, x1: bx0 + width, min: y, max: y, minFirst: true, count: 1))
            }
            lo = Swift.min(lo, y)
            hi = Swift.max(hi, y)
        }
        buckets = out
        xRange = first...last
        yRange = lo...hi
    }
}

/// Draws series as SVG: an envelope band (min to max per bucket) and a line through each
/// bucket's extremes; axes labelled at the ends and the middle.
enum MetricChart {
    static let width = 900.0
    static let height = 300.0
    static let left = 64.0
    static let right = 12.0
    static let top = 12.0
    static let bottom = 36.0
    /// One bucket per pixel column of the plot area.
    static var buckets: Int { Int(width - left - right) }

    /// Buckets per series when `count` series share a chart: fewer as they multiply (at least one
    /// per 8 pixels, about 4,000 in all), so the compare page stays within its 150 KB.
    static func buckets(forSeries count: Int) -> Int {
        count <= 1 ? buckets : max(buckets / 8, min(buckets, 4_000 / count))
    }

    /// One bucket per pixel column holding the lowest and highest value any of `series` has
    /// there: the band that shows where every run went when not every run gets a line.
    static func band(_ series: [Downsampled]) -> Downsampled {
        var points: [(Double, Double)] = []
        points.reserveCapacity(series.reduce(0) { $0 + $1.buckets.count * 2 })
        for s in series {
            for b in s.buckets {
                points.append((b.x0, b.min))
                if b.max != b.min { points.append((b.x0, b.max)) }
            }
        }
        points.sort { $0.0 < $1.0 }
        // Bucket values are already on the chart's y scale (log10 when log-y): no second log.
        return Downsampled(xs: points.map(\.0), ys: points.map(\.1), buckets: buckets, logY: false)
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]

    /// The x values of a metric's history for the chosen axis.
    static func xs(_ history: [Metric], _ x: ChartX) -> [Double] {
        switch x {
        case .step: return history.map { Double($0.step) }
        case .wall: return history.map { Double($0.timestamp.millisecondsSince1970) / 1000 }
        case .relative:
            let t0 = history.map(\.timestamp.millisecondsSince1970).min() ?? 0
            return history.map { Double($0.timestamp.millisecondsSince1970 - t0) / 1000 }
        }
    }

    /// History in x order (the store returns it by step; wall time can differ).
    static func series(_ history: [Metric], _ options: ChartOptions, buckets n: Int = MetricChart.buckets) -> Downsampled {
        var h = history
        if options.x != .step { h.sort { $0.timestamp < $1.timestamp } }
        return Downsampled(xs: xs(h, options.x), ys: h.map(\.value), buckets: n, logY: options.logY)
    }

    /// One SVG with every series on shared axes; `names` label the legend when there are several.
    /// - Parameter band: with several series, a shaded min–max band drawn beneath their lines
    ///   (the compare page's band over every run when only some get a line).
    static func svg(_ series: [Downsampled], names: [String], options: ChartOptions, title: String, band: Downsampled? = nil) -> Fragment {
        var h = HTML(capacity: 24_000)
        let drawn = (series + (band.map { [$0] } ?? [])).filter { !$0.buckets.isEmpty }
        h.raw("<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 900 300\" width=\"900\" height=\"300\" role=\"img\"")
        h.attribute("aria-label", title)
        h.raw(">")
        guard !drawn.isEmpty else {
            h.raw("<text x=\"450\" y=\"150\" text-anchor=\"middle\">no finite values to draw</text></svg>")
            return Fragment(h)
        }
        // invariant: `drawn` is not empty (checked above).
        var x0 = drawn.map(\.xRange.lowerBound).min()!
        var x1 = drawn.map(\.xRange.upperBound).max()!
        var y0 = drawn.map(\.yRange.lowerBound).min()!
        var y1 = drawn.map(\.yRange.upperBound).max()!
        // A single x or a flat line: widen around it so it draws in the middle.
        if x1 == x0 {
            x0 -= 0.5
            x1 += 0.5
        }
        if y1 == y0 {
            let pad = y0 == 0 ? 1 : abs(y0) * 0.1
            y0 -= pad
            y1 += pad
        }
        let pw = width - left - right
        let ph = height - top - bottom
        func px(_ x: Double) -> Double { left + (x1 > x0 ? (x - x0) / (x1 - x0) * pw : pw / 2) }
        func py(_ y: Double) -> Double { top + ph - (y1 > y0 ? (y - y0) / (y1 - y0) * ph : ph / 2) }
        func coord(_ v: Double) -> String { String(format: "%.1f", v) }
        // Axes and labels.
        h.raw("<path class=\"axis\" d=\"M64 12V264H888\"/>")
        for (frac, anchor) in [(0.0, "start"), (0.5, "middle"), (1.0, "end")] {
            let xv = x0 + (x1 - x0) * frac
            h.raw("<text y=\"282\"")
            h.attribute("x", coord(left + pw * frac))
            h.attribute("text-anchor", anchor)
            h.raw(">")
            h.text(axisLabel(xv, options.x))
            h.raw("</text>")
            let yv = y0 + (y1 - y0) * frac
            h.raw("<text x=\"58\" text-anchor=\"end\"")
            h.attribute("y", coord(py(yv) + 4))
            h.raw(">")
            h.text(Format.number(options.logY ? pow(10, yv) : yv))
            h.raw("</text>")
        }
        let overlay = series.count > 1 || band != nil
        if let band, !band.buckets.isEmpty {
            let outline = band.buckets.map { (px($0.x0), py($0.max)) } + band.buckets.reversed().map { (px($0.x0), py($0.min)) }
            h.raw("<path class=\"env\"")
            h.attribute("d", path(outline, close: true))
            h.raw("/>")
        }
        for (i, s) in series.enumerated() where !s.buckets.isEmpty {
            let colour = palette[i % palette.count]
            if !overlay {
                // The band: maxima left to right, then minima back.
                let band = s.buckets.map { (px($0.x0), py($0.max)) } + s.buckets.reversed().map { (px($0.x0), py($0.min)) }
                h.raw("<path class=\"env\"")
                h.attribute("d", path(band, close: true))
                h.raw("/>")
            }
            var line: [(Double, Double)] = []
            line.reserveCapacity(s.buckets.count * 2)
            for b in s.buckets {
                let (a, c) = b.minFirst ? (b.min, b.max) : (b.max, b.min)
                line.append((px(b.x0), py(a)))
                if b.min != b.max { line.append((px(b.x0), py(c))) }
            }
            h.raw("<path class=\"line\"")
            h.attribute("d", path(line, close: false))
            if overlay { h.attribute("style", "stroke:" + colour) }
            h.raw("><title>")
            h.text(i < names.count ? names[i] : "")
            h.raw("</title></path>")
            // A sparse series (a few minutes of traffic, a handful of checks) also gets a dot per
            // point: a single point draws no line.
            if s.buckets.count <= 60 {
                for b in s.buckets {
                    h.raw("<circle r=\"2.5\"")
                    h.attribute("cx", String(Int(px(b.x0).rounded())))
                    h.attribute("cy", String(Int(py(b.max).rounded())))
                    h.attribute("style", "fill:" + (overlay ? colour : "var(--chart)"))
                    h.raw("/>")
                }
            }
        }
        h.raw("</svg>")
        return Fragment(h)
    }

    /// A path through whole pixels: an absolute move, then relative line-tos (`M64 200l1-3 1 5`),
    /// a point equal to the one before left out. A step of a pixel or two costs three to five
    /// bytes; a minus sign needs no space before it.
    static func path(_ points: [(Double, Double)], close: Bool) -> String {
        var d = ""
        d.reserveCapacity(points.count * 6)
        var last: (Int, Int)? = nil
        var relative = false
        for (x, y) in points {
            let p = (Int(x.rounded()), Int(y.rounded()))
            if let l = last {
                if l == p { continue }
                let (dx, dy) = (p.0 - l.0, p.1 - l.1)
                if relative {
                    if dx >= 0 { d += " " }
                } else {
                    d += "l"
                    relative = true
                }
                d += String(dx)
                if dy >= 0 { d += " " }
                d += String(dy)
            } else {
                d += "M"
                d += String(p.0)
                if p.1 >= 0 { d += " " }
                d += String(p.1)
            }
            last = p
        }
        if close { d += "Z" }
        return d
    }

    /// The absolute points of a path written by `path` (for tests and tools reading the SVG).
    static func points(ofPath d: some StringProtocol) -> [(Int, Int)] {
        var numbers: [Int] = []
        var current = ""
        for ch in d {
            if ch.isNumber || (ch == "-" && current.isEmpty) {
                current.append(ch)
            } else {
                if let n = Int(current) { numbers.append(n) }
                current = ch == "-" ? "-" : ""
            }
        }
        if let n = Int(current) { numbers.append(n) }
        var out: [(Int, Int)] = []
        var i = 0
        while i + 1 < numbers.count {
            if let l = out.last { out.append((l.0 + numbers[i], l.1 + numbers[i + 1])) } else { out.append((numbers[i], numbers[i + 1])) }
            i += 2
        }
        return out
    }

    /// Which colour is which series, in the palette's order (the first 50).
    static func legend(_ h: inout HTML, _ names: [String]) {
        h.raw("<p>")
        for (i, name) in names.enumerated().prefix(50) {
            h.raw("<span style=\"color:")
            h.text(palette[i % palette.count])
            h.raw("\">■</span> ")
            h.text(name)
            h.raw(" ")
        }
        h.raw("</p>")
    }

    static func axisLabel(_ v: Double, _ x: ChartX) -> String {
        switch x {
        case .step: return Format.number(v.rounded())
        case .wall: return Format.time(Timestamp(millisecondsSince1970: Int64(v * 1000)))
        case .relative: return Format.duration(milliseconds: Int64(v * 1000))
        }
    }

    /// "1,000,000 points → 824 buckets": what the drawing kept of the series.
    static func summary(_ s: [Downsampled]) -> String {
        let points = s.reduce(0) { $0 + $1.points }
        let buckets = s.reduce(0) { $0 + $1.buckets.count }
        return "\(points) point\(points == 1 ? "" : "s") → \(buckets) bucket\(buckets == 1 ? "" : "s") (min and max of each drawn)"
    }
}
