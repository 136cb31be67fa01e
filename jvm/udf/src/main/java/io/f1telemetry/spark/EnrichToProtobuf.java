package io.f1telemetry.spark;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.spark.sql.api.java.UDF5;

/**
 * Spark function f1_enriched_protobuf(raw_value BINARY, encoding STRING, context_json STRING,
 * validated_time_unix_ns BIGINT, schema_id INT) BINARY: the record silver re-streams to
 * f1.telemetry.enriched, a Confluent-framed EnrichedTelemetryEvent (magic byte 0, the big-endian schema
 * id, message index [0], the message), or null when the input is not a valid record.
 *
 * <ul>
 *   <li>raw_value: the raw topic's record as bronze keeps it; with encoding 'protobuf' a Confluent-framed
 *       TelemetryEvent, with 'json' the 5-byte header and the contract's JSON encoding.
 *   <li>context_json: a JSON object of SessionContext's fields (circuit, session_type by enum name,
 *       session_date, total_laps, driver_code, driver_name, team); null leaves the context out.
 *   <li>validated_time_unix_ns: when silver accepted the event; null counts as 0 (left out).
 *   <li>schema_id: the id of subject f1.telemetry.enriched-value.
 * </ul>
 *
 * <p>It runs once per event, so nothing is parsed into message objects. A length-delimited field on the
 * wire is its tag, a varint length and the bytes, so a Protobuf event is copied into field 1 as it is,
 * after a validating scan (tags, lengths, wire types, UTF-8) instead of a parse; it keeps any fields of a
 * newer contract, too. A JSON event is encoded straight to wire bytes. The session context is the same
 * for every event of a car in a session, so its encoding is cached by its JSON text.
 */
public final class EnrichToProtobuf implements UDF5<byte[], String, String, Number, Number, byte[]> {
  private static final long serialVersionUID = 1L;
  private static final byte[] INVALID = new byte[0];
  private static final ThreadLocal<Wire.Sink> SINK = ThreadLocal.withInitial(Wire.Sink::new);
  /**
   * Encoded contexts by their JSON text, in slots chosen by a cheap hash of about 64 characters spread
   * over the text: String.hashCode would read all of a new String per row. A slot holds one immutable
   * entry, so threads share the cache without locks; a collision only costs a re-encoding.
   */
  private static final int CONTEXT_SLOTS = 1024;
  private static final int HASHED_CHARS = 64;
  private static final AtomicReferenceArray<CachedContext> CONTEXTS = new AtomicReferenceArray<>(CONTEXT_SLOTS);

  private record CachedContext(String json, byte[] encoded) {}

  /** Descriptors, scan shapes and JSON plans, built once per JVM on first use. */
  private static final class Types {
    static final Descriptor EVENT = Contracts.message("f1.telemetry.v1.TelemetryEvent");
    static final Descriptor CONTEXT = Contracts.message("f1.telemetry.v1.SessionContext");
    static final Descriptor ENRICHED = Contracts.message("f1.telemetry.v1.EnrichedTelemetryEvent");
    static final Wire.Shape EVENT_SHAPE = Wire.Shape.of(EVENT);
    static final JsonToProtobuf.MessagePlan EVENT_JSON = JsonToProtobuf.plan(EVENT);
    static final JsonToProtobuf.MessagePlan CONTEXT_JSON = JsonToProtobuf.plan(CONTEXT);
    static final long EVENT_TAG = tag("event", FieldDescriptor.Type.MESSAGE, EVENT);
    static final long SESSION_TAG = tag("session", FieldDescriptor.Type.MESSAGE, CONTEXT);
    static final long VALIDATED_TAG = tag("validated_time_unix_ns", FieldDescriptor.Type.SFIXED64, null);

    /** The field's tag, after checking that the contract still has the type this class writes. */
    private static long tag(String name, FieldDescriptor.Type type, Descriptor message) {
      FieldDescriptor field = ENRICHED.findFieldByName(name);
      if (field == null || field.getType() != type || field.isRepeated()
          || (message != null && field.getMessageType() != message)) {
        throw new IllegalStateException("EnrichedTelemetryEvent." + name + " is not a " + type);
      }
      return ((long) field.getNumber() << 3) | Wire.wireType(field);
    }
  }

  @Override
  public byte[] call(byte[] raw, String encoding, String contextJson, Number validatedTimeUnixNs,
      Number schemaId) {
    if (raw == null || encoding == null || schemaId == null) {
      return null;
    }
    try {
      byte[] context = contextJson == null ? null : context(contextJson);
      if (context == INVALID) {
        return null;
      }
      byte[] event;
      int from;
      int to;
      switch (encoding) {
        case "protobuf" -> {
          from = protobufStart(raw);
          to = raw.length;
          if (from < 0 || !Types.EVENT_SHAPE.valid(raw, from, to)) {
            return null;
          }
          event = raw;
        }
        case "json" -> {
          if (raw.length < 5 || raw[0] != 0) {
            return null;
          }
          Wire.Sink sink = SINK.get();
          sink.reset();
          JsonToProtobuf.encode(Types.EVENT_JSON, raw, 5, raw.length, sink);
          event = sink.buf;
          from = 0;
          to = sink.pos;
        }
        default -> {
          return null;
        }
      }
      long validated = validatedTimeUnixNs == null ? 0 : validatedTimeUnixNs.longValue();
      return frame(schemaId.intValue(), event, from, to, context, validated);
    } catch (JsonToProtobuf.Malformed e) {
      return null;
    }
  }

  /**
   * Where the TelemetryEvent starts in a Confluent-framed Protobuf record, or -1. The message indexes
   * must say "the file's first message": [0], written as the single byte 0 or in full (count 1, index 0).
   */
  static int protobufStart(byte[] raw) {
    if (raw.length < 6 || raw[0] != 0) {
      return -1;
    }
    if (raw[5] == 0) {
      return 6;
    }
    if (raw[5] == 2 && raw.length >= 7 && raw[6] == 0) { // zigzag: count 1, then index 0
      return 7;
    }
    return -1;
  }

  /** The encoded SessionContext of a context JSON, or INVALID; cached, as few distinct ones exist. */
  private static byte[] context(String json) {
    int n = json.length();
    int stride = 1 + n / HASHED_CHARS;
    int hash = n;
    for (int i = n - 1; i >= 0; i -= stride) {
      hash = 31 * hash + json.charAt(i);
    }
    int slot = (hash ^ (hash >>> 16)) & (CONTEXT_SLOTS - 1);
    CachedContext cached = CONTEXTS.get(slot);
    if (cached != null && cached.json.equals(json)) {
      return cached.encoded;
    }
    byte[] encoded;
    try {
      Wire.Sink sink = new Wire.Sink();
      byte[] text = json.getBytes(StandardCharsets.UTF_8);
      JsonToProtobuf.encode(Types.CONTEXT_JSON, text, 0, text.length, sink);
      encoded = Arrays.copyOf(sink.buf, sink.pos);
    } catch (JsonToProtobuf.Malformed e) {
      encoded = INVALID;
    }
    CONTEXTS.set(slot, new CachedContext(json, encoded));
    return encoded;
  }

  /** magic 0, schema id, index [0], then fields 1 (the event), 2 (the context) and 3, in number order. */
  private static byte[] frame(int schemaId, byte[] event, int from, int to, byte[] context, long validated) {
    int eventLength = to - from;
    int size = 6 + Wire.varintSize(Types.EVENT_TAG) + Wire.varintSize(eventLength) + eventLength;
    if (context != null) {
      size += Wire.varintSize(Types.SESSION_TAG) + Wire.varintSize(context.length) + context.length;
    }
    if (validated != 0) { // proto3: a field without presence is left out at its default
      size += Wire.varintSize(Types.VALIDATED_TAG) + 8;
    }
    byte[] out = new byte[size];
    out[0] = 0;
    out[1] = (byte) (schemaId >>> 24);
    out[2] = (byte) (schemaId >>> 16);
    out[3] = (byte) (schemaId >>> 8);
    out[4] = (byte) schemaId;
    out[5] = 0;
    int pos = Wire.putVarint(out, 6, Types.EVENT_TAG);
    pos = Wire.putVarint(out, pos, eventLength);
    System.arraycopy(event, from, out, pos, eventLength);
    pos += eventLength;
    if (context != null) {
      pos = Wire.putVarint(out, pos, Types.SESSION_TAG);
      pos = Wire.putVarint(out, pos, context.length);
      System.arraycopy(context, 0, out, pos, context.length);
      pos += context.length;
    }
    if (validated != 0) {
      pos = Wire.putVarint(out, pos, Types.VALIDATED_TAG);
      for (int i = 0; i < 8; i++) {
        out[pos++] = (byte) (validated >>> (8 * i));
      }
    }
    return out;
  }
}
