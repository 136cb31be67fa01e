package io.f1telemetry.spark;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * The contracts' message types, built once per JVM from the descriptor set that `f1 contracts generate`
 * writes from proto/ (a jar resource). The set lists every file after the files it imports.
 */
final class Contracts {
  static final String DESCRIPTOR_SET = "/f1/telemetry/v1/contracts.desc";

  private Contracts() {}

  /** The message type with this full name, e.g. f1.telemetry.v1.TelemetryEvent. */
  static Descriptor message(String fullName) {
    for (FileDescriptor file : Holder.FILES.values()) {
      Descriptor type = file.findMessageTypeByName(fullName.substring(fullName.lastIndexOf('.') + 1));
      if (type != null && type.getFullName().equals(fullName)) {
        return type;
      }
    }
    throw new IllegalStateException(fullName + " is not in " + DESCRIPTOR_SET);
  }

  /** The file with this name in the descriptor set, e.g. f1/telemetry/v1/telemetry.proto. */
  static FileDescriptor file(String name) {
    FileDescriptor file = Holder.FILES.get(name);
    if (file == null) {
      throw new IllegalStateException(name + " is not in " + DESCRIPTOR_SET);
    }
    return file;
  }

  /** Class-initialisation holder: loaded on first use, once, thread-safely. */
  private static final class Holder {
    static final Map<String, FileDescriptor> FILES = load();

    private static Map<String, FileDescriptor> load() {
      try (InputStream in = Contracts.class.getResourceAsStream(DESCRIPTOR_SET)) {
        if (in == null) {
          throw new IOException("descriptor set " + DESCRIPTOR_SET + " is missing from the jar");
        }
        Map<String, FileDescriptor> built = new HashMap<>();
        for (FileDescriptorProto proto : FileDescriptorSet.parseFrom(in).getFileList()) {
          FileDescriptor[] deps = new FileDescriptor[proto.getDependencyCount()];
          for (int i = 0; i < deps.length; i++) {
            deps[i] = built.get(proto.getDependency(i));
            if (deps[i] == null) {
              throw new IOException(proto.getName() + " comes before its import " + proto.getDependency(i));
            }
          }
          built.put(proto.getName(), FileDescriptor.buildFrom(proto, deps));
        }
        return built;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (DescriptorValidationException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
