package io.f1telemetry.spark;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.spark.sql.api.java.UDF1;

/**
 * Spark function f1_protobuf_to_json(value BINARY) STRING: a Confluent-framed TelemetryEvent as the JSON
 * of the contract's JSON encoding (field names as in the .proto, enums by name, 64-bit integers as
 * numbers, every field without presence printed; an enum number the contract does not name as that
 * number, as protobuf's JsonFormat prints it), or {"__decode_error": "..."} when the bytes are not such a
 * record (truncated fields included). Descriptors come from the descriptor set generated from proto/ (a
 * jar resource).
 */
public final class ProtobufToJson implements UDF1<byte[], String> {
  private static final long serialVersionUID = 1L;
  private static final String FILE = "f1/telemetry/v1/telemetry.proto";

  @Override
  public String call(byte[] value) {
    if (value == null) {
      return null;
    }
    try {
      ByteBuffer buffer = ByteBuffer.wrap(value);
      if (buffer.remaining() < 6 || buffer.get() != 0) {
        return error("not in the Confluent wire format (no magic byte 0)");
      }
      buffer.getInt(); // schema id: Spark reads it with plain SQL
      Descriptor type = messageAt(Contracts.file(FILE), readIndexes(buffer));
      DynamicMessage message = DynamicMessage.parseFrom(type, com.google.protobuf.CodedInputStream.newInstance(buffer));
      StringBuilder out = new StringBuilder(512);
      Json.message(message, out);
      return out.toString();
    } catch (Exception e) {
      return error(e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  private static String error(String message) {
    StringBuilder out = new StringBuilder("{\"__decode_error\":");
    Json.string(message == null ? "" : message, out);
    return out.append('}').toString();
  }

  /** Confluent message indexes: a zigzag varint count, then that many zigzag varints; count 0 means [0]. */
  private static int[] readIndexes(ByteBuffer buffer) {
    int count = zigzag(buffer);
    if (count == 0) {
      return new int[] {0};
    }
    if (count < 0 || count > 16) {
      throw new IllegalArgumentException("bad message index count " + count);
    }
    int[] indexes = new int[count];
    for (int i = 0; i < count; i++) {
      indexes[i] = zigzag(buffer);
    }
    return indexes;
  }

  private static int zigzag(ByteBuffer buffer) {
    int raw = 0;
    for (int shift = 0; shift < 32; shift += 7) {
      byte b = buffer.get();
      raw |= (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return (raw >>> 1) ^ -(raw & 1);
      }
    }
    throw new IllegalArgumentException("varint too long");
  }

  private static Descriptor messageAt(FileDescriptor file, int[] indexes) {
    Descriptor type = file.getMessageTypes().get(indexes[0]);
    for (int i = 1; i < indexes.length; i++) {
      type = type.getNestedTypes().get(indexes[i]);
    }
    return type;
  }

  /** The JSON encoding of the contract, written by hand: no JSON library on Spark's class path needed. */
  static final class Json {
    private Json() {}

    static void message(DynamicMessage message, StringBuilder out) {
      out.append('{');
      boolean first = true;
      for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
        boolean present = field.isRepeated() || !field.hasPresence() || message.hasField(field);
        if (!present) {
          continue; // unset oneof members, optional fields and messages
        }
        if (!first) {
          out.append(',');
        }
        first = false;
        string(field.getName(), out);
        out.append(':');
        Object value = message.getField(field);
        if (field.isRepeated()) {
          out.append('[');
          List<?> items = (List<?>) value;
          for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
              out.append(',');
            }
            scalar(field, items.get(i), out);
          }
          out.append(']');
        } else {
          scalar(field, value, out);
        }
      }
      out.append('}');
    }

    private static void scalar(FieldDescriptor field, Object value, StringBuilder out) {
      switch (field.getJavaType()) {
        case MESSAGE -> message((DynamicMessage) value, out);
        case ENUM -> {
          // A number the contract does not name (an open proto3 enum keeps it) is printed as the number,
          // as protobuf's JsonFormat does, not as the UNKNOWN_ENUM_VALUE_... placeholder name protobuf-java
          // gives it: downstream validation then quarantines it as an invalid enum.
          var enumValue = (com.google.protobuf.Descriptors.EnumValueDescriptor) value;
          if (enumValue.getIndex() == -1) {
            out.append(enumValue.getNumber());
          } else {
            string(enumValue.getName(), out);
          }
        }
        case STRING -> string((String) value, out);
        case BOOLEAN -> out.append(((Boolean) value) ? "true" : "false");
        case DOUBLE, FLOAT -> {
          double d = ((Number) value).doubleValue();
          if (Double.isNaN(d) || Double.isInfinite(d)) {
            string(Double.toString(d), out);
          } else {
            out.append(d);
          }
        }
        case LONG -> {
          long l = (Long) value;
          boolean unsigned = field.getType() == FieldDescriptor.Type.UINT64
              || field.getType() == FieldDescriptor.Type.FIXED64;
          out.append(unsigned ? Long.toUnsignedString(l) : Long.toString(l));
        }
        case INT -> {
          int i = (Integer) value;
          boolean unsigned = field.getType() == FieldDescriptor.Type.UINT32
              || field.getType() == FieldDescriptor.Type.FIXED32;
          out.append(unsigned ? Integer.toUnsignedString(i) : Integer.toString(i));
        }
        case BYTE_STRING -> string(java.util.Base64.getEncoder().encodeToString(
            ((com.google.protobuf.ByteString) value).toByteArray()), out);
        default -> throw new IllegalStateException("unhandled field type " + field.getJavaType());
      }
    }

    static void string(String s, StringBuilder out) {
      out.append('"');
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '"' -> out.append("\\\"");
          case '\\' -> out.append("\\\\");
          case '\n' -> out.append("\\n");
          case '\r' -> out.append("\\r");
          case '\t' -> out.append("\\t");
          default -> {
            if (c < 0x20) {
              out.append(String.format("\\u%04x", (int) c));
            } else {
              out.append(c);
            }
          }
        }
      }
      out.append('"');
    }
  }
}
