// The prelude: built-in functions written in gradc itself. Their derivatives and fusion
// come from the primitives they are made of.

export const preludeFile = "<prelude>";

export const preludeSource = `
# the mean over all elements of the squared difference
fn mse(pred, target) = mean((pred - target) ^ 2)

# softmax cross-entropy over the last axis, averaged over all other positions; soft targets allowed
fn cross_entropy(logits, target) = mean(-sum(target * log_softmax(logits, axis = -1), axis = -1))
`;
