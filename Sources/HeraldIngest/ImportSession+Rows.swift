import HeraldCore
import HeraldLedger

extension ImportSession {
    /// Parses one line as a JSON object, reporting a syntax error; nil when bad.
    private func object(_ line: UnsafeBufferPointer<UInt8>) -> [JSONMember]? {
        do throws(JSONError) {
            return try JSONParser.parseObject(line)
        } catch {
            let col = Self.column(of: error.offset, in: line)
            let where_ = error.message.hasPrefix("invalid UTF-8") ? " (byte \(error.offset + 1))" : ""
            reject(column: col, "malformed JSON: \(error.message)\(where_)", source: line)
            return nil
        }
    }

    /// One users NDJSON line.
    func userLine(_ line: UnsafeBufferPointer<UInt8>) {
        guard let members = object(line) else { return }
        var b = UserRowBuilder(schema: importer.schema, line: lineNumber)
        do throws(RowError) {
            var devicesMember: JSONMember?
            for m in members {
                if m.key == "devices" {
                    devicesMember = m
                    continue
                }
                try b.add(key: m.key, .json(m.value), column: Self.column(of: m.offset, in: line), log: &log)
            }
            let user = try b.finish()
            if let d = devicesMember, d.value != .null {
                do throws(DeviceJSONError) { devices += try DeviceJSON.parse(d.value, user: user.id) } catch {
                    throw RowError(column: Self.column(of: d.offset, in: line), message: error.message)
                }
            }
            addUser(user)
        } catch {
            reject(column: error.column, error.message, source: line)
        }
    }

    /// One events NDJSON line.
    func eventLine(_ line: UnsafeBufferPointer<UInt8>) {
        guard let members = object(line) else { return }
        var b = EventRowBuilder()
        do throws(RowError) {
            for m in members {
                guard let role = EventRole.plain(m.key) else {
                    unknownKey(m.key, offset: m.offset, line: line)
                    continue
                }
                try b.add(role: role, m.value, column: m.offset, key: m.key)
            }
            events.append(try b.finish(keys: ("user_id", "event"), latest: importer.latestEventMillis))
        } catch {
            reject(offset: error.column, error.message, line: line)
        }
    }

    /// One Segment-spec call: `identify` → user upsert, `track` → event; others are refused.
    func segmentLine(_ line: UnsafeBufferPointer<UInt8>) {
        guard let members = object(line) else { return }
        guard let typeMember = members.last(where: { $0.key == "type" }) else {
            reject(column: 1, "missing required field 'type' (identify or track)", source: line)
            return
        }
        guard case .string(let type) = typeMember.value else {
            reject(offset: typeMember.offset, "'type' must be a string", line: line)
            return
        }
        switch type {
        case "identify":
            var b = UserRowBuilder(schema: importer.schema, line: lineNumber)
            do throws(RowError) {
                for m in members {
                    if m.key == "userId" {
                        try b.add(
                            key: "id", .json(m.value), column: Self.column(of: m.offset, in: line), log: &log,
                            name: "userId")
                    } else if m.key == "traits" {
                        guard case .object(let traits) = m.value else {
                            if m.value == .null { continue }
                            throw RowError(
                                column: Self.column(of: m.offset, in: line), message: "'traits' must be an object")
                        }
                        for t in traits where t.key != "id" {
                            try b.add(key: t.key, .json(t.value), column: Self.column(of: t.offset, in: line), log: &log)
                        }
                    }
                }
                let user = try b.finish()
                do throws(SegmentCallError) {
                    if let device = try SegmentCall.device(members, user: user.id) { devices.append(device) }
                } catch {
                    throw RowError(column: 1, message: error.message)
                }
                addUser(user)
            } catch {
                let message = error.message == "missing required field 'id'" ? "missing required field 'userId'" : error.message
                reject(column: error.column, message, source: line)
            }
        case "track":
            var b = EventRowBuilder()
            do throws(RowError) {
                for m in members {
                    if let role = EventRole.segment(m.key) { try b.add(role: role, m.value, column: m.offset, key: m.key) }
                }
                let event = try b.finish(keys: ("userId", "event"), latest: importer.latestEventMillis)
                do throws(SegmentCallError) {
                    if let device = try SegmentCall.device(members, user: event.userID) { devices.append(device) }
                } catch {
                    throw RowError(column: 1, message: error.message)
                }
                events.append(event)
            } catch {
                reject(offset: error.column, error.message, line: line)
            }
        case "page", "screen", "group", "alias":
            reject(
                offset: typeMember.offset,
                "Segment '\(type)' calls are not imported: only identify (profiles) and track (events) are",
                line: line)
        default:
            reject(offset: typeMember.offset, "unknown Segment call type '\(type)' (expected identify or track)", line: line)
        }
    }

    /// Warns once per unknown key of an events line.
    private func unknownKey(_ key: String, offset: Int, line: UnsafeBufferPointer<UInt8>) {
        log.summarise("key:\(key)", .warning, line: lineNumber, column: Self.column(of: offset, in: line)) { n in
            "unknown key '\(key)' ignored in \(n) row\(n == 1 ? "" : "s") "
                + "(events have user_id, event, timestamp, properties, messageId)"
        }
    }

    /// Reads a users CSV file: a header row naming the columns, `id` required, empty cell = absent.
    func runCSV(_ reader: LineReader, progress: (ImportProgress) -> Void) async throws {
        var parser = CSVRecordParser(maxRecord: reader.maxLine)
        var header: [String]?
        var idColumn = 0
        while let chunk = try reader.next() {
            lineNumber = reader.lineNumber
            guard case .text(let line) = chunk else {
                report.read += 1
                if parser.isOpen {
                    // The record that was open runs into the long line: drop it whole.
                    let start = parser.startLine
                    do throws(RowError) { try parser.finish() } catch {}
                    rejectRecord(start, field: 1, "record longer than the limit of \(reader.maxLine) bytes; skipped")
                } else {
                    reject(column: 1, "line longer than the limit of \(reader.maxLine) bytes; skipped")
                }
                continue
            }
            if !parser.isOpen && line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let complete: Bool
            do throws(RowError) {
                complete = try parser.feed(line, lineNumber: lineNumber)
            } catch {
                report.read += 1
                rejectRecord(parser.startLine, field: error.column, error.message)
                continue
            }
            guard complete else { continue }
            guard let names = header else {
                let h = parser.cells.map { $0.trimmingCharacters() }
                guard let idx = h.firstIndex(of: "id") else {
                    rejectRecord(parser.startLine, field: 1, "the header row has no 'id' column")
                    return
                }
                header = h
                idColumn = idx + 1
                continue
            }
            report.read += 1
            csvRecord(parser.cells, header: names, idColumn: idColumn, line: parser.startLine)
            if users.count >= importer.batchSize {
                try await flush()
                progress(ImportProgress(bytesRead: reader.bytesRead, totalBytes: reader.totalBytes, rows: report.read))
            }
        }
        do throws(RowError) { try parser.finish() } catch {
            report.read += 1
            rejectRecord(parser.startLine, field: error.column, error.message)
        }
        try await flush()
        try await drain()
        progress(ImportProgress(bytesRead: reader.bytesRead, totalBytes: reader.totalBytes, rows: report.read))
    }

    private func csvRecord(_ cells: [String], header: [String], idColumn: Int, line: Int) {
        guard cells.count <= header.count else {
            rejectRecord(line, field: header.count + 1, "\(cells.count) fields but the header has \(header.count)")
            return
        }
        var b = UserRowBuilder(schema: importer.schema, line: line)
        do throws(RowError) {
            for (k, cell) in cells.enumerated() where !cell.isEmpty && !header[k].isEmpty {
                try b.add(key: header[k], .text(cell), column: k + 1, log: &log)
            }
            addUser(try b.finish(column: idColumn))
        } catch {
            let field = error.column - 1 < header.count ? " (field \(error.column), '\(header[error.column - 1])')" : ""
            rejectRecord(line, field: error.column, error.message + field)
        }
    }

    private func rejectRecord(_ line: Int, field: Int, _ message: String) {
        let saved = lineNumber
        lineNumber = line
        reject(column: field, message)
        lineNumber = saved
    }
}
