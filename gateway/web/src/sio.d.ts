// Minimal typings for the parts of socket.io-client 2.x that the demo pages use.
declare module "socket.io-client" {
  namespace io {
    interface Manager {
      opts: { query?: Record<string, string> };
      reconnection(v: boolean): Manager;
    }
    interface Socket {
      readonly connected: boolean;
      readonly io: Manager;
      on(event: string, fn: (...args: any[]) => void): Socket;
      emit(event: string, ...args: any[]): Socket;
      close(): Socket;
    }
    interface ConnectOpts {
      forceNew?: boolean;
      query?: Record<string, string>;
      transports?: string[];
    }
  }
  function io(uri: string, opts?: io.ConnectOpts): io.Socket;
  export = io;
}
