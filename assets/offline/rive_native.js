// Stand-in for the Rive runtime that Flet's web client would fetch from cdn.jsdelivr.net.
// The station shows no Rive animations; resolving to null tells the client there is no runtime.
window.RiveNative = function () { return Promise.resolve(null); };
