/// Sorting many doubles fast: a least-significant-digit radix sort on the IEEE bit patterns,
/// six passes of 11 bits (2,048 buckets stay in cache), with every pass's histogram counted in
/// one read. For a million values it is several times faster than the standard library's
/// comparison sort, and drift reports sort two samples per numeric column.
enum RadixSort {
    static let bits = 11
    static let passes = 6
    static let buckets = 1 << bits

    /// The values in ascending order (finite values only are expected; -0 sorts before +0).
    static func sorted(_ values: [Double]) -> [Double] {
        guard values.count > 4096 else { return values.sorted() }
        // Each double becomes an unsigned key that orders like it: every bit of a negative is
        // flipped, only the sign bit of a positive.
        var keys = values.map { v -> UInt64 in
            let b = v.bitPattern
            return b & (1 << 63) != 0 ? ~b : b | (1 << 63)
        }
        var scratch = [UInt64](repeating: 0, count: keys.count)
        var counts = [Int](repeating: 0, count: buckets * passes)
        let mask = UInt64(buckets - 1)
        keys.withUnsafeBufferPointer { k in
            counts.withUnsafeMutableBufferPointer { c in
                for key in k {
                    for p in 0..<passes { c[p * buckets + Int((key >> UInt64(p * bits)) & mask)] += 1 }
                }
            }
        }
        let n = keys.count
        for p in 0..<passes {
            let base = p * buckets
            // A digit that is the same for every key would move nothing: skip the pass.
            if counts[base..<(base + buckets)].contains(n) { continue }
            var total = 0
            for i in base..<(base + buckets) {
                let c = counts[i]
                counts[i] = total
                total += c
            }
            let shift = UInt64(p * bits)
            keys.withUnsafeBufferPointer { k in
                scratch.withUnsafeMutableBufferPointer { out in
                    counts.withUnsafeMutableBufferPointer { c in
                        for key in k {
                            let d = base + Int((key >> shift) & mask)
                            out[c[d]] = key
                            c[d] += 1
                        }
                    }
                }
            }
            swap(&keys, &scratch)
        }
        return keys.map { k in
            Double(bitPattern: k & (1 << 63) != 0 ? k & ~(1 << 63) : ~k)
        }
    }
}
