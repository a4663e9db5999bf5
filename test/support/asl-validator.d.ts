/** Types of `asl-validator` 3.16 (the package ships none): `validator(definition, options)`; it adds `QueryLanguage` to the states it reads, so pass a copy. */
declare module 'asl-validator' {
  interface AslValidatorOptions {
    /** Check JSONPath expressions (default true). */
    checkPaths: boolean;
    /** Check that every `Resource` is an ARN (default true). */
    checkArn: boolean;
  }
  interface AslValidatorResult {
    isValid: boolean;
    errors: Array<{ 'Error code': string; Message?: string; message?: string; path?: string }>;
    errorsText: (separator?: string) => string;
  }
  function validator(definition: unknown, options?: AslValidatorOptions): AslValidatorResult;
  export = validator;
}
