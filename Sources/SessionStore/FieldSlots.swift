import NIOCore

/// Where a context's standard and metadata fields are among its hash's fields, found in one pass
/// by their two-byte storage names: slots 0 to 5 are the standard fields in the contract's order
/// (``StandardField/allCases``), then the version, created and modified times. Lives on the stack.
struct FieldSlots {
    /// How many standard fields there are; their slots come first.
    static let standardCount = 6
    /// The slot of `_v`.
    static let version = 6
    /// The slot of `_c`.
    static let created = 7
    /// The slot of `_m`.
    static let modified = 8

    private var indices: (Int, Int, Int, Int, Int, Int, Int, Int, Int) = (-1, -1, -1, -1, -1, -1, -1, -1, -1)

    /// The index of the slot's field, or -1 when the context has none.
    subscript(slot: Int) -> Int {
        get {
            precondition((0..<9).contains(slot))
            return withUnsafeBytes(of: self.indices) { $0.load(fromByteOffset: slot * MemoryLayout<Int>.stride, as: Int.self) }
        }
        set {
            precondition((0..<9).contains(slot))
            withUnsafeMutableBytes(of: &self.indices) { $0.storeBytes(of: newValue, toByteOffset: slot * MemoryLayout<Int>.stride, as: Int.self) }
        }
    }

    /// The slot of the field stored under the two bytes of `name`, if it is a standard or metadata field.
    static func slot(ofStorageField name: ByteBuffer) -> Int? {
        guard let pair = name.getInteger(at: name.readerIndex, endianness: .big, as: UInt16.self) else { return nil }
        switch (UInt8(truncatingIfNeeded: pair >> 8), UInt8(truncatingIfNeeded: pair)) {
        case (UInt8(ascii: "c"), UInt8(ascii: "u")): return 0
        case (UInt8(ascii: "s"), UInt8(ascii: "i")): return 1
        case (UInt8(ascii: "c"), UInt8(ascii: "y")): return 2
        case (UInt8(ascii: "c"), UInt8(ascii: "a")): return 3
        case (UInt8(ascii: "t"), UInt8(ascii: "l")): return 4
        case (UInt8(ascii: "l"), UInt8(ascii: "a")): return 5
        case (UInt8(ascii: "_"), UInt8(ascii: "v")): return Self.version
        case (UInt8(ascii: "_"), UInt8(ascii: "c")): return Self.created
        case (UInt8(ascii: "_"), UInt8(ascii: "m")): return Self.modified
        default: return nil
        }
    }

    /// `,"<name>":` for the standard field of `slot`.
    static func jsonKey(ofStandardSlot slot: Int) -> StaticString {
        switch slot {
        case 0: return ",\"customerId\":"
        case 1: return ",\"siteCode\":"
        case 2: return ",\"currency\":"
        case 3: return ",\"cartId\":"
        case 4: return ",\"targetLocation\":"
        default: return ",\"language\":"
        }
    }
}
