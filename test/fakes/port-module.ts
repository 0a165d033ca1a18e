import { Module, type Abstract, type Type } from '@nestjs/common';

/** A module that binds `port` to a ready-made fake and exports only the port, like an adapter module does. */
export function portModule<T>(port: Abstract<T>, fake: T): Type {
  @Module({ providers: [{ provide: port, useValue: fake }], exports: [port] })
  class FakeAdapterModule {}
  return FakeAdapterModule;
}
