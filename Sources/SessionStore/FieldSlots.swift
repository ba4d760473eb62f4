import NIOCore

/// Where a context's standard and metadata fields are among its hash's fields, found in one pass
/// by their two-byte storage names: slots 0 to 5 are the standard fields in the contract's order
/// (``StandardField/allCases``, whose names and storage names these tables are made from, once),
/// then the version, created and modified times. Lives on the stack.
struct FieldSlots {
    /// How many standard fields there are; their slots come first.
    static let standardCount = StandardField.allCases.count
    /// The slot of `_v`.
    static let version = standardCount
    /// The slot of `_c`.
    static let created = standardCount + 1
    /// The slot of `_m`.
    static let modified = standardCount + 2

    /// The storage name of each slot as a big-endian pair of bytes.
    private static let storageNames: [UInt16] = (StandardField.allCases.map(\.storageField) + ["_v", "_c", "_m"]).map { name in
        let bytes = Array(name.utf8)
        precondition(bytes.count == 2, "storage names have two bytes")
        return UInt16(bytes[0]) << 8 | UInt16(bytes[1])
    }

    /// `,"<name>":` of each standard field, by slot.
    static let jsonKeys: [[UInt8]] = StandardField.allCases.map { Array(",\"\($0.rawValue)\":".utf8) }

    /// Nine places: six standard fields and three metadata fields (a seventh standard field needs a tenth).
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
        guard name.readableBytes == 2, let pair = name.getInteger(at: name.readerIndex, endianness: .big, as: UInt16.self) else {
            return nil
        }
        return Self.storageNames.firstIndex(of: pair)
    }
}
