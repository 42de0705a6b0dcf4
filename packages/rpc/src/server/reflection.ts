import { create, createRegistry, toBinary, type DescFile, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  ErrorResponseSchema,
  FileDescriptorResponseSchema,
  ListServiceResponseSchema,
  ServerReflection,
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "@money/proto/grpc/reflection/v1/reflection_pb";

/**
 * gRPC server reflection (grpc.reflection.v1), so `buf curl`, grpcurl and
 * Postman can discover the server's services and message types without the
 * proto files.
 */
export function reflectionService(
  files: readonly DescFile[],
  serviceNames: readonly string[],
): ServiceImpl<typeof ServerReflection> {
  const registry = createRegistry(...files);
  const byName = new Map<string, DescFile>();
  const collect = (file: DescFile): void => {
    if (byName.has(file.proto.name)) return;
    byName.set(file.proto.name, file);
    file.dependencies.forEach(collect);
  };
  files.forEach(collect);

  return {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) yield answer(request, registry, byName, serviceNames);
    },
  };
}

function answer(
  request: ServerReflectionRequest,
  registry: Registry,
  byName: Map<string, DescFile>,
  serviceNames: readonly string[],
): ServerReflectionResponse {
  const reply = (messageResponse: ServerReflectionResponse["messageResponse"]) =>
    create(ServerReflectionResponseSchema, {
      validHost: request.host,
      originalRequest: request,
      messageResponse,
    });
  const files = (file: DescFile | undefined) => {
    if (!file)
      return reply({
        case: "errorResponse",
        value: create(ErrorResponseSchema, { errorCode: 5, errorMessage: "not found" }),
      });
    // The file and everything it imports, so a client can resolve every type in one answer.
    const all: DescFile[] = [];
    const visit = (f: DescFile): void => {
      if (all.includes(f)) return;
      all.push(f);
      f.dependencies.forEach(visit);
    };
    visit(file);
    return reply({
      case: "fileDescriptorResponse",
      value: create(FileDescriptorResponseSchema, {
        fileDescriptorProto: all.map((f) => toBinary(FileDescriptorProtoSchema, f.proto)),
      }),
    });
  };

  switch (request.messageRequest.case) {
    case "listServices":
      return reply({
        case: "listServicesResponse",
        value: create(ListServiceResponseSchema, { service: serviceNames.map((name) => ({ name })) }),
      });
    case "fileByFilename":
      return files(byName.get(request.messageRequest.value));
    case "fileContainingSymbol": {
      const symbol = request.messageRequest.value;
      const desc = registry.get(symbol) ?? registry.get(symbol.slice(0, symbol.lastIndexOf(".")));
      return files(desc && "file" in desc ? desc.file : undefined);
    }
    default:
      return reply({
        case: "errorResponse",
        value: create(ErrorResponseSchema, { errorCode: 12, errorMessage: "not implemented" }),
      });
  }
}
