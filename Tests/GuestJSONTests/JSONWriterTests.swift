import Foundation
import GuestJSON
import Testing

@Suite("JSONWriter")
struct JSONWriterTests {
    func written(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        body(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test(arguments: [
        ("say \"hi\"", #""say \"hi\"""#),
        ("back\\slash", #""back\\slash""#),
        ("\n\r\t", #""\n\r\t""#),
        ("\u{0}\u{1}\u{1f}", #""\u0000\u0001\u001f""#),
        ("\u{7f}é😀", "\"\u{7f}é😀\""),
        ("\u{2028}\u{2029}", #""\u2028\u2029""#),
        ("<a href=\"/x\">&amp;</a>", #""<a href=\"/x\">&amp;</a>""#),
    ])
    func escapesAsGoWithoutHTMLEscaping(input: String, expected: String) throws {
        let json = written { $0.string(input) }
        #expect(json == expected)
        #expect(try JSONDecoder().decode(String.self, from: Data(json.utf8)) == input)
    }

    @Test func invalidUTF8BecomesReplacementCharacters() {
        let json = written { $0.string(utf8: [0x61, 0xff, 0x62, 0xc3]) }
        #expect(Array(json.utf8) == [0x22, 0x61, 0xef, 0xbf, 0xbd, 0x62, 0xef, 0xbf, 0xbd, 0x22])
    }

    @Test func objectsHaveSortedKeysAndArraysKeepOrder() {
        #expect(written { $0.object(["b": "1", "a": "<2>", "c": ""]) } == #"{"a":"<2>","b":"1","c":""}"#)
        #expect(written { $0.array(["z", "a"]) } == #"["z","a"]"#)
        #expect(written { $0.object([:]) } == "{}")
    }

    /// What the escaper must give for `bytes`: Swift's own repair of invalid UTF-8, then Go's
    /// escapes (the text `JSONWriter` wrote before it escaped in pieces).
    static func reference(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            switch scalar {
            case "\"": out += Array("\\\"".utf8)
            case "\\": out += Array("\\\\".utf8)
            case "\n": out += Array("\\n".utf8)
            case "\r": out += Array("\\r".utf8)
            case "\t": out += Array("\\t".utf8)
            case "\u{2028}": out += Array("\\u2028".utf8)
            case "\u{2029}": out += Array("\\u2029".utf8)
            case _ where scalar.value < 0x20: out += Array(String(format: "\\u%04x", scalar.value).utf8)
            default: UTF8.encode(scalar) { out.append($0) }
            }
        }
        return out
    }

    /// Bytes that are mostly UTF-8, with every kind of damage: cut sequences, stray
    /// continuation bytes, overlong and surrogate forms, bytes no UTF-8 holds.
    static func damaged(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let pieces: [[UInt8]] = [
            [0x41], [0x22], [0x5c], [0x0a], [0x00], [0x7f], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80],
            [0xe2, 0x80, 0xa8], [0xc3], [0xe2, 0x82], [0xf0, 0x9f], [0x80], [0xbf], [0xc0, 0xaf], [0xed, 0xa0, 0x80],
            [0xf4, 0x90, 0x80, 0x80], [0xff], [0xfe], [0xe0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80],
        ]
        var bytes: [UInt8] = []
        while bytes.count < count { bytes += pieces[Int(next() % UInt64(pieces.count))] }
        return bytes
    }

    /// The same text however the bytes are cut into pieces, and the same as before.
    @Test(arguments: 0..<40)
    func escapingInPiecesIsEscapingWhole(seed: Int) {
        let bytes = Self.damaged(2_000, seed: UInt64(seed) &+ 1)
        let expected = Self.reference(bytes)
        #expect(Array(written { $0.string(utf8: bytes) }.utf8) == [0x22] + expected + [0x22])
        var state = UInt64(seed) &* 2_862_933_555_777_941_757 &+ 3_037_000_493
        var escaper = JSONStringEscaper()
        var out: [UInt8] = []
        var offset = 0
        while offset < bytes.count {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            let size = min(bytes.count - offset, Int(state >> 60) + (seed % 3 == 0 ? 1 : 0))
            bytes.withUnsafeBytes { all in
                escaper.escape(
                    UnsafeRawBufferPointer(rebasing: all[offset..<(offset + size)]), last: offset + size == bytes.count, into: &out)
            }
            offset += size
        }
        if bytes.isEmpty { escaper.escape(UnsafeRawBufferPointer(start: nil, count: 0), last: true, into: &out) }
        #expect(out == expected)
    }
}
