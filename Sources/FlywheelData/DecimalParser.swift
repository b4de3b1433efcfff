import Foundation

/// Parses a CSV field as a decimal number, correctly rounded, without going through C's `strtod`
/// for the common case.
///
/// The accepted text is exactly what `strtod` accepts within the reader's alphabet: an optional
/// sign, digits with an optional point (`1`, `1.`, `.5`), an optional exponent (`e-7`, `E+07`), or
/// `inf` / `infinity` in any case. No spaces, hex, or `nan` (those are text or missing values).
///
/// Fields with at most 19 significant digits are converted with Clinger's fast path (both operands
/// exact, one rounding) or the Eisel–Lemire method: multiply the normalized significand by a
/// 128-bit truncation of 5^q and read the rounded mantissa off the top of the 192-bit product. The
/// truncation makes the product an underestimate by less than one unit of its 64 low bits; when
/// that could change the rounding (a carry into the kept bits, or an exact tie), and for longer
/// significands, subnormal or overflowing results and special forms, the field goes to `strtod`,
/// which decides every case exactly.
package enum DecimalParser {
    /// The value of `field`, or nil when it is not a number.
    @inline(__always)
    package static func parse(_ field: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = field.count
        guard n > 0, let p = field.baseAddress else { return nil }
        if n >= 63 { return longNumber(field) }
        // Cheap rejection: a number starts with a digit, sign, point or i/I (inf).
        let first = p[0]
        guard first &- 48 < 10 || first == 45 || first == 43 || first == 46 || first == 105 || first == 73 else {
            return nil
        }
        if let (v, end) = prefix(p, from: 0, end: n, PowersOfFive.shared), end == n { return v }
        return strtodNumber(field)
    }

    /// The decimal number that starts at `p[start]` and where it ends, when it is a plain one this
    /// parser decides by itself: sign, digits with an optional point, optional exponent, at most 19
    /// significant digits, a normal result. Nil otherwise (the caller then asks `strtod`). Reads
    /// nothing at or after `end`.
    @inline(__always)
    static func prefix(_ p: UnsafePointer<UInt8>, from start: Int, end n: Int, _ table: PowersOfFive) -> (Double, Int)? {
        // Offsets stay far below Int.max, so the arithmetic wraps rather than checks.
        // Signs and digit counts vary from value to value: they are handled without branches.
        var i = start
        let first = i < n ? p[i] : 0
        let negative = first == 45
        i &+= negative || first == 43 ? 1 : 0
        var w: UInt64 = 0
        let intStart = i
        if i &+ 1 < n, p[i] &- 48 < 10, p[i &+ 1] &- 48 >= 10 {
            w = UInt64(p[i] &- 48)  // one digit (0.5, -3.25): the most common integer part
            i &+= 1
        } else {
            digitsAt(p, &i, n, &w, table)
        }
        var digits = i &- intStart
        var q = 0
        if i < n, p[i] == 46 {
            i &+= 1
            let fractionStart = i
            digitsAt(p, &i, n, &w, table)
            q = fractionStart &- i
            digits &+= i &- fractionStart
        }
        guard digits > 0 else { return nil }
        if digits > 19 {
            // Leading zeros do not count (w holds the rest exactly when at most 19 digits remain).
            var j = intStart
            while j < i, p[j] == 48 || p[j] == 46 {
                if p[j] == 48 { digits &-= 1 }
                j &+= 1
            }
            guard digits <= 19 else { return nil }  // w wrapped around
        }
        if i < n, p[i] | 0x20 == 101 {  // e or E
            i &+= 1
            var negativeExponent = false
            if i < n, p[i] == 45 || p[i] == 43 {
                negativeExponent = p[i] == 45
                i &+= 1
            }
            let exponentStart = i
            var e = 0
            while i < n {
                let d = p[i] &- 48
                guard d < 10 else { break }
                if e < 100_000 { e = e &* 10 &+ Int(d) }  // beyond any double; strtod decides
                i &+= 1
            }
            guard i > exponentStart else { return nil }
            q &+= negativeExponent ? -e : e
        }
        let sign = UInt64(negative ? 1 : 0) << 63
        if w == 0 { return (Double(bitPattern: sign), i) }
        // Clinger: w and 10^|q| are exact doubles, so one IEEE multiply or divide rounds once.
        // (Measured: a division beats Eisel–Lemire's two wide multiplications and checks.)
        if w <= 1 << 53, q >= -22, q <= 22 {
            let x = Double(w), t = table.tens[q < 0 ? -q : q]
            let v = q < 0 ? x / t : x * t
            return (Double(bitPattern: v.bitPattern | sign), i)
        }
        guard let v = eiselLemire(w, q, table) else { return nil }
        return (Double(bitPattern: v.bitPattern | sign), i)
    }

    /// Reads the digits at `p[i]`, advancing `i` and accumulating them into `w`: eight bytes at a
    /// time (SWAR) while eight can be read, else one by one.
    ///
    /// Eight bytes are checked at once (a byte is a digit when its high nibble is 3 and still 3
    /// after adding 6; a carry out of a byte of 0xFA or more only disturbs later bytes, after the
    /// first non-digit). All digits: they combine as pairs, then quads, with three multiplications,
    /// and the next eight follow at a fixed step. Otherwise the digits before the first non-digit
    /// move to the last places behind '0's and combine the same way: no branch per digit.
    @inline(__always)
    static func digitsAt(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ n: Int, _ w: inout UInt64, _ table: PowersOfFive) {
        while i &+ 8 <= n {
            let v = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
            let nibbles = (v & 0xF0F0_F0F0_F0F0_F0F0) | (((v &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4)
            let misses = nibbles ^ 0x3333_3333_3333_3333
            if misses == 0 {
                w = w &* 100_000_000 &+ combine(v)
                i &+= 8
                continue
            }
            let count = misses.trailingZeroBitCount >> 3  // digits before the first non-digit, 0…7
            // Shift in two steps so that a count of 0 shifts all 64 bits out.
            let moved = (v &<< UInt64(63 &- 8 &* count)) &<< 1 | 0x3030_3030_3030_3030 &>> UInt64(8 &* count)
            w = w &* table.integerTens[count] &+ combine(moved)
            i &+= count
            return
        }
        while i < n {
            let d = p[i] &- 48
            guard d < 10 else { break }
            w = w &* 10 &+ UInt64(d)
            i &+= 1
        }
    }

    /// The value of 8 ASCII digits, the first in the lowest byte.
    @inline(__always)
    static func combine(_ v: UInt64) -> UInt64 {
        var x = v &- 0x3030_3030_3030_3030  // digit k (k = 0 first) in byte k
        x = (x &* 10) &+ (x >> 8)  // byte 2k: the pair d(2k)·10 + d(2k+1)
        let pairs02 = x & 0x0000_00FF_0000_00FF, pairs13 = (x >> 16) & 0x0000_00FF_0000_00FF
        return (pairs02 &* (100 + (1_000_000 << 32)) &+ pairs13 &* (1 + (10_000 << 32))) >> 32
    }

    @inline(never)  // the uncommon path: kept out of the parse loop's code
    static func eiselLemire(_ w: UInt64, _ q: Int, _ table: PowersOfFive) -> Double? {
        guard q >= PowersOfFive.minExponent, q <= PowersOfFive.maxExponent else { return nil }
        let entry = table.entries + (q &- PowersOfFive.minExponent) &* 3
        let shift = w.leadingZeroBitCount
        let wn = w << UInt64(shift)
        // P = wn × T, with T = tHi·2^64 + tLo: 192 bits as (h, m, l).
        let first = wn.multipliedFullWidth(by: entry[0])
        let second = wn.multipliedFullWidth(by: entry[1])
        let (m, carry) = first.low.addingReportingOverflow(second.high)
        let h = first.high &+ (carry ? 1 : 0)
        let l = second.low
        // h ≥ 2^62; keep 54 bits (53 and the rounding bit).
        let upper = h >> 63
        let s = 9 &+ upper
        let belowMask: UInt64 = (1 << s) &- 1
        let m54 = h >> s
        let below = h & belowMask
        let exact = q >= 0 && q <= PowersOfFive.maxExactExponent
        // The true product lies in [P, P + 2^64): a carry into the kept bits is possible only when
        // all the bits below them are ones. (One test on or-ed bits: a rare branch, not several.)
        if (below ^ belowMask) | ~m == 0, !exact { return nil }
        // Round to nearest: add the rounding bit. Ties (nothing below the rounding bit) are rare.
        var mantissa = (m54 &+ 1) >> 1
        if (m54 & 1) ^ 1 | below | m | l == 0 {
            guard exact else { return nil }  // a tie, or just above one: strtod knows
            mantissa = (m54 >> 1) &+ ((m54 >> 1) & 1)  // to even
        }
        // Value = P × 2^(e + q − shift), whose top bit is at 190 + upper.
        var exponent = 190 &+ Int(upper) &+ Int(Int64(bitPattern: entry[2])) &+ q &- shift
        if mantissa == 1 << 53 {
            mantissa >>= 1
            exponent &+= 1
        }
        guard exponent >= -1022, exponent <= 1023 else { return nil }  // subnormal or infinite: strtod
        return Double(bitPattern: UInt64(exponent &+ 1023) << 52 | (mantissa & ((1 << 52) - 1)))
    }

    /// The reader's original path: `strtod` on a NUL-terminated copy, accepting only decimal forms.
    static func strtodNumber(_ f: UnsafeBufferPointer<UInt8>) -> Double? {
        guard f.count < 63 else { return longNumber(f) }
        for b in f {
            // strtod also takes hex and "nan(...)"; reject anything outside the decimal alphabet.
            guard (b >= 48 && b <= 57) || b == 45 || b == 43 || b == 46 || b == 101 || b == 69 || b == 105 || b == 73
                || b == 110 || b == 78 || b == 102 || b == 70 || b == 116 || b == 84 || b == 121 || b == 89
            else { return nil }
        }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer -> Double? in
            guard let base = buffer.baseAddress else { return nil }
            for (i, b) in f.enumerated() { base[i] = CChar(bitPattern: b) }
            base[f.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            let v = strtod(base, &end)
            guard let end, end - base == f.count else { return nil }
            return v
        }
    }

    static func longNumber(_ f: UnsafeBufferPointer<UInt8>) -> Double? {
        guard let s = String(validating: f, as: UTF8.self) else { return nil }
        return Double(s)
    }
}

/// 128-bit truncations of 5^q for q in −342…308: T(q) = ⌊5^q · 2^−e(q)⌋ with e(q) chosen so that
/// 2^127 ≤ T(q) < 2^128. Computed once with exact big-integer arithmetic: 5^q by repeated
/// multiplication, and 5^−n as ⌊2^1024 / 5^n⌋ by repeated division by 5 (⌊⌊x/a⌋/b⌋ = ⌊x/ab⌋).
///
/// The tables sit in memory allocated once (no bounds checks in the hot loop); `@unchecked
/// Sendable` because nothing changes them after `init`.
final class PowersOfFive: @unchecked Sendable {
    static let minExponent = -342
    static let maxExponent = 308
    /// 5^55 < 2^128 ≤ 5^56: up to here T(q) is 5^q itself, shifted.
    static let maxExactExponent = 55
    static let shared = PowersOfFive()

    /// For each q from `minExponent`: the high and low 64 bits of T(q), then e(q) as an Int64 bit
    /// pattern (5^q = T(q) · 2^e(q), exactly for 0 ≤ q ≤ 55, from above otherwise).
    let entries: UnsafeMutablePointer<UInt64>
    /// 1e0 … 1e22, the powers of ten a double holds exactly.
    let tens: UnsafeMutablePointer<Double>
    /// 10^0 … 10^8 as integers.
    let integerTens: UnsafeMutablePointer<UInt64>

    private init() {
        let count = Self.maxExponent - Self.minExponent + 1
        entries = .allocate(capacity: 3 * count)
        entries.initialize(repeating: 0, count: 3 * count)
        tens = .allocate(capacity: 23)
        integerTens = .allocate(capacity: 9)
        var integerTen: UInt64 = 1
        for i in 0...8 {
            integerTens[i] = integerTen
            integerTen *= 10
        }
        var ten = 1.0
        for i in 0...22 {
            tens[i] = ten
            ten *= 10  // exact up to 1e22
        }
        func store(_ q: Int, _ top: (UInt64, UInt64, Int), _ exponent: Int) {
            let k = 3 * (q - Self.minExponent)
            entries[k] = top.0
            entries[k + 1] = top.1
            entries[k + 2] = UInt64(bitPattern: Int64(exponent))
        }
        // Little-endian 32-bit limbs.
        var power: [UInt32] = [1]
        for q in 0...Self.maxExponent {
            let top = Self.top128(power)
            store(q, top, top.2 - 128)
            var carry: UInt64 = 0
            for j in power.indices {
                let x = UInt64(power[j]) * 5 + carry
                power[j] = UInt32(truncatingIfNeeded: x)
                carry = x >> 32
            }
            if carry != 0 { power.append(UInt32(carry)) }
        }
        var quotient = [UInt32](repeating: 0, count: 33)
        quotient[32] = 1  // 2^1024
        for n in 1...(-Self.minExponent) {
            var rem: UInt64 = 0
            for j in quotient.indices.reversed() {
                let x = rem << 32 | UInt64(quotient[j])
                quotient[j] = UInt32(x / 5)
                rem = x % 5
            }
            let top = Self.top128(quotient)
            store(-n, top, top.2 - 128 - 1024)
        }
    }

    deinit {
        entries.deallocate()
        tens.deallocate()
        integerTens.deallocate()
    }

    /// The top 128 bits of a nonzero big integer (shifted left when it is shorter), and its bit length.
    static func top128(_ limbs: [UInt32]) -> (UInt64, UInt64, Int) {
        var top = limbs.count - 1
        while limbs[top] == 0 { top -= 1 }
        let bits = top * 32 + (32 - limbs[top].leadingZeroBitCount)
        // Bit b of the result (0 = lowest of 128) is bit (bits − 128 + b) of the integer.
        func bit(_ i: Int) -> UInt64 {
            guard i >= 0, i / 32 < limbs.count else { return 0 }
            return UInt64(limbs[i / 32] >> UInt32(i % 32)) & 1
        }
        var hi: UInt64 = 0, lo: UInt64 = 0
        for b in 0..<64 {
            lo |= bit(bits - 128 + b) << UInt64(b)
            hi |= bit(bits - 64 + b) << UInt64(b)
        }
        return (hi, lo, bits)
    }
}
