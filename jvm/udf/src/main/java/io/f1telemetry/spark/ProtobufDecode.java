package io.f1telemetry.spark;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;

/**
 * Spark function f1_protobuf_decode(value BINARY) STRUCT: a Confluent-framed TelemetryEvent as typed columns,
 * with no text in between. The struct is the one bronze's from_json reads the JSON topic into
 * (`streaming.jobs.bronze.RECORD_SCHEMA`, built from the same descriptor): the envelope's scalar fields in
 * declaration order, then one struct per payload message of the oneof (null unless it is the record's),
 * then {@code __decode_error} (why the bytes are not such a record, truncated fields included) and
 * {@code _corrupt_record} (always null here; from_json's column for text that is no JSON).
 *
 * <p>Values are as wide as the contract's types, so that a value at a type's limit is read and rejected
 * downstream as out of range rather than wrapped: 32-bit integers as BIGINT (uint32 unsigned), 64-bit as
 * BIGINT, uint64 as DECIMAL(20,0), float and double as DOUBLE, enums by name (a number the contract does
 * not name as that number, as protobuf's JsonFormat prints it: validation quarantines it as an invalid
 * enum). A field without presence has its default when absent, as the JSON encoding prints it; an
 * {@code optional} field that is absent is null.
 */
public final class ProtobufDecode implements UDF1<byte[], Row> {
  private static final long serialVersionUID = 1L;
  static final String FILE = "f1/telemetry/v1/telemetry.proto";
  static final String EVENT = "f1.telemetry.v1.TelemetryEvent";

  @Override
  public Row call(byte[] value) {
    if (value == null) {
      return null;
    }
    try {
      ByteBuffer buffer = ByteBuffer.wrap(value);
      if (buffer.remaining() < 6 || buffer.get() != 0) {
        return Layout.INSTANCE.error("not in the Confluent wire format (no magic byte 0)");
      }
      buffer.getInt(); // schema id: Spark reads it with plain SQL
      Descriptor type = messageAt(Contracts.file(FILE), readIndexes(buffer));
      if (!type.getFullName().equals(EVENT)) {
        return Layout.INSTANCE.error("message indexes name " + type.getFullName() + ", not " + EVENT);
      }
      DynamicMessage message = DynamicMessage.parseFrom(type, CodedInputStream.newInstance(buffer));
      return Layout.INSTANCE.row(message);
    } catch (Exception e) {
      return Layout.INSTANCE.error(e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  /** Where each field goes in the struct: built once per JVM from the descriptor. */
  static final class Layout {
    static final Layout INSTANCE = new Layout(Contracts.message(EVENT));

    final List<FieldDescriptor> envelope = new ArrayList<>();
    final List<FieldDescriptor> payloads = new ArrayList<>();

    private Layout(Descriptor event) {
      for (FieldDescriptor field : event.getFields()) {
        if (field.isRepeated()) {
          throw new IllegalStateException(field.getFullName() + ": repeated fields have no column");
        }
        (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE ? payloads : envelope).add(field);
      }
    }

    int width() {
      return envelope.size() + payloads.size() + 2;
    }

    Row error(String message) {
      Object[] values = new Object[width()];
      values[values.length - 2] = message == null ? "" : message;
      return RowFactory.create(values);
    }

    Row row(DynamicMessage message) {
      Object[] values = new Object[width()];
      int i = 0;
      for (FieldDescriptor field : envelope) {
        values[i++] = column(message, field);
      }
      for (FieldDescriptor field : payloads) {
        values[i++] = message.hasField(field) ? payload((DynamicMessage) message.getField(field)) : null;
      }
      return RowFactory.create(values);
    }

    private static Row payload(DynamicMessage message) {
      List<FieldDescriptor> fields = message.getDescriptorForType().getFields();
      Object[] values = new Object[fields.size()];
      for (int i = 0; i < values.length; i++) {
        FieldDescriptor field = fields.get(i);
        if (field.isRepeated() || field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          throw new IllegalStateException(field.getFullName() + ": payload fields are scalars");
        }
        values[i] = column(message, field);
      }
      return RowFactory.create(values);
    }

    private static Object column(DynamicMessage message, FieldDescriptor field) {
      if (field.hasPresence() && !message.hasField(field)) {
        return null; // an absent `optional` field
      }
      Object value = message.getField(field);
      return switch (field.getType()) {
        case INT32, SINT32, SFIXED32 -> (long) (Integer) value;
        case UINT32, FIXED32 -> Integer.toUnsignedLong((Integer) value);
        case INT64, SINT64, SFIXED64 -> value;
        case UINT64, FIXED64 -> new BigDecimal(Long.toUnsignedString((Long) value));
        case DOUBLE -> value;
        case FLOAT -> (double) (Float) value;
        case BOOL, STRING -> value;
        case ENUM -> {
          EnumValueDescriptor enumValue = (EnumValueDescriptor) value;
          // an open proto3 enum keeps a number it does not name: that number, not protobuf-java's
          // UNKNOWN_ENUM_VALUE_... placeholder name
          yield enumValue.getIndex() == -1 ? Integer.toString(enumValue.getNumber()) : enumValue.getName();
        }
        default -> throw new IllegalStateException(field.getFullName() + ": no column type for " + field.getType());
      };
    }
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
    List<Descriptor> types = file.getMessageTypes();
    if (indexes[0] < 0 || indexes[0] >= types.size()) {
      throw new IllegalArgumentException("no message at index " + indexes[0]);
    }
    Descriptor type = types.get(indexes[0]);
    for (int i = 1; i < indexes.length; i++) {
      List<Descriptor> nested = type.getNestedTypes();
      if (indexes[i] < 0 || indexes[i] >= nested.size()) {
        throw new IllegalArgumentException("no nested message at index " + indexes[i]);
      }
      type = nested.get(indexes[i]);
    }
    return type;
  }
}
