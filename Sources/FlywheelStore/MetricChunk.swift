import FlywheelCore
import Foundation

/// The packed form of a metric's history in SQLite: one blob per run, key and logging call.
///
/// Each entry is 24 bytes, little-endian: step (Int64), timestamp in ms (Int64), value (the
/// Float64's bits, so NaN and infinities survive). Writing a batch costs one row per distinct key
/// instead of one per measurement; reading merges a key's chunks, orders them by step, timestamp
/// and value, and drops exact repeats (a retried call), as the in-memory store does.
enum MetricChunk {
    static let entrySize = 24

    /// Groups `metrics` by key, keeping each key's order of appearance.
    static func encode(_ metrics: [Metric]) -> [(key: String, count: Int, data: Data)] {
        var order: [String] = []
        var buffers: [String: [UInt8]] = [:]
        var counts: [String: Int] = [:]
        for m in metrics {
            if buffers[m.key] == nil {
                order.append(m.key)
                buffers[m.key] = []
                buffers[m.key]?.reserveCapacity(entrySize * 16)
            }
            append(m, to: &buffers[m.key, default: []])
            counts[m.key, default: 0] += 1
        }
        return order.map { ($0, counts[$0] ?? 0, Data(buffers[$0] ?? [])) }
    }

    static func append(_ m: Metric, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: m.step.littleEndian) { buffer.append(contentsOf: $0) }
        withUnsafeBytes(of: m.timestamp.millisecondsSince1970.littleEndian) { buffer.append(contentsOf: $0) }
        withUnsafeBytes(of: m.value.bitPattern.littleEndian) { buffer.append(contentsOf: $0) }
    }

    /// Decodes one chunk's entries for `key`.
    static func decode(_ data: Data, key: String, into out: inout [Metric]) throws {
        guard data.count % entrySize == 0 else {
            throw FlywheelError.internal("a stored metric chunk for '\(key)' has \(data.count) bytes, not a multiple of \(entrySize)")
        }
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let step = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int64.self))
                let time = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8, as: Int64.self))
                let bits = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self))
                out.append(Metric(key: key, value: Double(bitPattern: bits), step: step, timestamp: Timestamp(millisecondsSince1970: time)))
                offset += entrySize
            }
        }
    }

    /// Orders a key's history by step, timestamp and value (NaN where 0 would sort, after a real
    /// 0) and removes exact repeats. Every backend returns history in this order.
    static func normalize(_ metrics: [Metric]) -> [Metric] {
        // The usual case, a history logged in order, is already strictly ascending (so free of
        // duplicates too): one pass instead of a sort of a million points.
        var ascending = true
        var i = 1
        while i < metrics.count {
            if !(HistoryOrder.key(metrics[i - 1]) < HistoryOrder.key(metrics[i])) {
                ascending = false
                break
            }
            i += 1
        }
        if ascending { return metrics }
        let sorted = metrics.sorted { HistoryOrder.key($0) < HistoryOrder.key($1) }
        var out: [Metric] = []
        out.reserveCapacity(sorted.count)
        for m in sorted where out.last != m { out.append(m) }
        return out
    }
}
