/// Which of Redis Cluster's 16384 hash slots a key belongs to: CRC16 (XMODEM) of the key, or of
/// its hash tag — the part between the first `{` and the next `}`, when that part is not empty.
public enum RedisHashSlot {
    /// How many slots a Redis Cluster has.
    public static let count = 16384

    /// The slot of `key`.
    public static func of(_ key: String) -> Int {
        let utf8 = key.utf8
        if let open = utf8.firstIndex(of: UInt8(ascii: "{")) {
            let afterOpen = utf8.index(after: open)
            if let close = utf8[afterOpen...].firstIndex(of: UInt8(ascii: "}")), close != afterOpen {
                return Int(crc16(utf8[afterOpen..<close]) & 0x3FFF)
            }
        }
        return Int(crc16(utf8) & 0x3FFF)
    }

    /// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), as Redis Cluster computes it.
    static func crc16<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
