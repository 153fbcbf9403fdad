// Schema-valid messages from a seed, shared by the structure-aware targets (`include!`d):
// `ocpp_types::random`'s generators for the action's request or response, in the union types
// the session takes. Needs `AnyAction`, `AnyRequest`, `AnyResponse`, `Gen`, `SplitMix64` and
// the version modules in scope.

fn request(action: AnyAction, seed: u64) -> Option<AnyRequest> {
    let mut source = SplitMix64(seed);
    let g = &mut Gen::new(&mut source);
    match action {
        AnyAction::V16(a) => v16::Request::generate(a, g).map(|r| AnyRequest::V16(Box::new(r))),
        AnyAction::V201(a) => v201::Request::generate(a, g).map(|r| AnyRequest::V201(Box::new(r))),
        AnyAction::V21(a) => v21::Request::generate(a, g).map(|r| AnyRequest::V21(Box::new(r))),
    }
}

fn response(action: AnyAction, seed: u64) -> Option<AnyResponse> {
    let mut source = SplitMix64(seed);
    let g = &mut Gen::new(&mut source);
    match action {
        AnyAction::V16(a) => v16::Response::generate(a, g).map(|r| AnyResponse::V16(Box::new(r))),
        AnyAction::V201(a) => {
            v201::Response::generate(a, g).map(|r| AnyResponse::V201(Box::new(r)))
        }
        AnyAction::V21(a) => v21::Response::generate(a, g).map(|r| AnyResponse::V21(Box::new(r))),
    }
}
